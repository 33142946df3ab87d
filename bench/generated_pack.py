"""A generated pack of N rules, to show how load and decision time grow with a pack's size."""

from __future__ import annotations

LEVELS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")


def pack_header(pack_id: str, title: str, schema: bool = False) -> list[str]:
    """The lines that open a generated pack: its id, title, draft status and one version in
    force from 2020 (`schema`: first the line naming the pack schema, for a file beside the
    shipped packs). The benchmarks and the tests that generate packs all start with these."""
    first = ["# yaml-language-server: $schema=../schemas/pack.schema.json"] if schema else []
    return first + [
        f"id: {pack_id}",
        f"title: {title}",
        "version: 0.1.0",
        "status: draft",
        "source: {title: Generated}",
        "versions:",
        '  - {id: "1", effective_from: 2020-01-01, effective_to: null}',
    ]


def pack_text(rules: int) -> str:
    """YAML for a pack with `rules` rules: each sets one of two outputs, every fourth carries
    an obligation, every tenth an interpretation."""
    lines = [
        *pack_header(f"generated_{rules}", f"Generated pack of {rules} rules", schema=True),
        "definitions:",
        "  near_release:",
        "    expr: prisoner.release_date - as_of <= 28 days",
        "outputs:",
        "  groups: {from_rules: collect}",
        "  flagged: {from_rules: any}",
        "rules:",
    ]
    for n in range(rules):
        level = LEVELS[n % len(LEVELS)]
        output = "groups" if n % 2 == 0 else "flagged"
        value = f'"g{n}"' if output == "groups" else "true"
        lines += [
            f"  - id: R-{n:05d}",
            f"    title: Generated rule {n}",
            f'    when: prisoner.rosh == "{level}" and (near_release or prisoner.cev)',
            "    sets:",
            f"      {output}: '{value}'",
            "    cite: {section: Generated, paragraph: " + str(n) + "}",
        ]
        if n % 4 == 2:
            lines += [
                "    obligation:",
                "      modality: should",
                f"      text: Do the generated thing number {n}.",
                "      who: establishment",
            ]
        if n % 10 == 0:
            lines.append("    interpretations: [I-GEN]")
    lines += [
        "interpretations:",
        "  - id: I-GEN",
        "    kind: ambiguity",
        "    question: Is this generated?",
        "    choice: it is",
        "    why: it is",
        "    cite: {section: Generated}",
    ]
    return "\n".join(lines) + "\n"
