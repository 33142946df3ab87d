"""Tools for pack writers on top of loaded packs: worked examples, source coverage, semantic
diff, plan rendering and the docs site."""
