"""Building, stage `declarations`: interpretations, versions, vocabulary and parameters, the
parts of a pack that hold no expression the checker must type (parameter values are constant
expressions, computed once here).

They come first because everything after reads them: expressions name parameters and
vocabularies, rules name versions, everything names interpretations. Problems here are about
dates and duplicates (E-DUP-ID, E-VERSION-DATES, E-VERSION-OVERLAP, E-PARAM-OVERLAP, E-DUP-NAME
for a vocabulary also imported). The `local:` block, what the pack opens to local plans, is
checked here too: it names parts, bodies, tasks, rules and parameters, but holds no expression
(E-REF, E-LOCAL-DECLARE, W-LOCAL-OPTIONS)."""

from __future__ import annotations

from typing import Any

from engine.language.check import check
from engine.language.codegen import compile_checked
from engine.language.parse import ExprError
from engine.packs import model as M
from engine.packs.build_context import (
    PackBuild,
    PackScope,
    Parsed,
    choice,
    literal_text,
    no_names,
    opt_str,
    overlap,
)
from engine.packs.local_declarations import check_declarations


def interpretations(b: PackBuild) -> dict[str, M.Interpretation]:
    out: dict[str, M.Interpretation] = {}
    for i, item in enumerate(b.data.get("interpretations") or []):
        iid = str(item.get("id"))
        if iid in out:
            b.problem(
                ("interpretations", i, "id"),
                "E-DUP-ID",
                f"interpretation `{iid}` is defined twice",
            )
        out[iid] = M.Interpretation(
            id=iid,
            kind=choice(item.get("kind", "ambiguity"), M.InterpretationKind),
            question=str(item.get("question", "")),
            choice=str(item.get("choice", "")),
            why=str(item.get("why", "")),
            cites=b.cites(("interpretations", i, "cite")),
            versions=tuple(str(v) for v in item.get("versions") or ()),
        )
    return out


def versions(b: PackBuild) -> list[M.Version]:
    out: list[M.Version] = []
    for i, item in enumerate(b.data.get("versions") or []):
        v = M.Version(
            id=str(item.get("id")),
            title=str(item.get("title", item.get("id"))),
            effective_from=item.get("effective_from"),
            effective_to=item.get("effective_to"),
            changes=tuple(str(c) for c in item.get("changes") or ()),
            interpretations=tuple(item.get("interpretations") or ()),
            cites=b.cites(("versions", i, "cite")),
        )
        if v.effective_to is not None and v.effective_to < v.effective_from:
            b.problem(
                ("versions", i, "effective_to"),
                "E-VERSION-DATES",
                f"version `{v.id}` ends before it begins",
                "`effective_to` is the version's last day in force, on or after `effective_from`;"
                " null when it has no end",
            )
        for other in out:
            if other.id == v.id:
                b.problem(("versions", i, "id"), "E-DUP-ID", f"version `{v.id}` is defined twice")
            elif overlap(
                other.effective_from, other.effective_to, v.effective_from, v.effective_to
            ):
                b.problem(
                    ("versions", i, "effective_from"),
                    "E-VERSION-OVERLAP",
                    f"versions `{other.id}` and `{v.id}` are both in force on some dates",
                    "end the earlier version the day before the later one begins",
                )
        out.append(v)
    return out


def vocabulary(b: PackBuild) -> dict[str, M.Vocabulary]:
    out: dict[str, M.Vocabulary] = dict(b.imported)
    for name, item in (b.data.get("vocabulary") or {}).items():
        values = []
        seen: set[Any] = set()
        for j, v in enumerate(item.get("values") or []):
            vid = v.get("id")
            if vid in seen:
                b.problem(
                    ("vocabulary", name, "values", j, "id"),
                    "E-DUP-ID",
                    f"`{vid}` appears twice in vocabulary `{name}`",
                    "give each value its own id, or remove the second",
                )
            seen.add(vid)
            extra = {k: x for k, x in v.items() if k not in ("id", "name", "description", "cite")}
            values.append(
                M.VocabValue(
                    id=vid,
                    name=opt_str(v.get("name")),
                    description=opt_str(v.get("description")),
                    extra=extra,
                    cites=b.cites(("vocabulary", name, "values", j, "cite")),
                )
            )
        if name in b.imported:
            b.problem(
                ("vocabulary", name),
                "E-DUP-NAME",
                f"vocabulary `{name}` is also imported",
                key=True,
            )
        out[str(name)] = M.Vocabulary(
            str(name),
            opt_str(item.get("description")),
            tuple(values),
            item.get("codes") is True,
        )
    return out


def parameters(b: PackBuild) -> dict[str, M.Parameter]:
    out: dict[str, M.Parameter] = {}
    empty = PackScope({}, [])
    for name, item in (b.data.get("parameters") or {}).items():
        values: list[M.ParameterValue] = []
        for j, v in enumerate(item.get("values") or []):
            path = ("parameters", name, "values", j, "value")
            raw = v.get("value")
            value: Any = raw
            if isinstance(raw, str):
                parsed = Parsed(raw, path, f"parameter `{name}`", None)
                try:
                    node = b.parse(raw)  # kept with the pack's other syntax trees
                    checked = check(node, empty)
                    if checked.errors:
                        for err in checked.errors:
                            b.expr_problem(parsed, _literals_only(err, b.data))
                        continue
                    value = compile_checked(checked, f"parameter {name}").fn(
                        {"as_of": None, "version": None}, no_names
                    )
                except ExprError as err:
                    b.expr_problem(parsed, err)
                    continue
            start, end = v.get("from"), v.get("to")
            for other in values:
                if overlap(other.start, other.end, start, end):
                    b.problem(
                        ("parameters", name, "values", j),
                        "E-PARAM-OVERLAP",
                        f"two values of parameter `{name}` are in force on the same dates",
                        "end the earlier value the day before the next begins",
                    )
            values.append(
                M.ParameterValue(
                    start=start,
                    end=end,
                    value=value,
                    text=literal_text(raw),
                    cites=b.cites(("parameters", name, "values", j, "cite"))
                    or b.cites(("parameters", name, "cite")),  # the parameter's covers its values
                )
            )
        out[str(name)] = M.Parameter(str(name), opt_str(item.get("description")), tuple(values))
    return out


def _literals_only(err: ExprError, data: Any) -> ExprError:
    """A name in a parameter's value said as what it is: the value is made of literals only,
    so a name the pack does define (another parameter, a definition) is not unknown, it is
    not allowed there; "unknown name" with a "did you mean" sent authors looking for a typo."""
    if err.code != "E-NAME" or not isinstance(data, dict):
        return err
    name = err.message.split("`")[1] if err.message.count("`") >= 2 else ""
    defined = any(
        isinstance(data.get(part), dict) and name in data[part]
        for part in ("parameters", "definitions", "outputs", "vocabulary", "tables")
    )
    message = (
        f"a parameter's value is made of literals only, so it cannot read `{name}`"
        if defined
        else err.message
    )
    hint = (
        "write the value itself (`3 days`, `4`, `'\"week\"'`); "
        "work out a value from other names in a definition"
    )
    return ExprError(err.code, message, err.line, err.col, hint, err.end_line, err.end_col)


def local_declarations(b: PackBuild) -> None:
    """What the `local:` block opens to local plans names things the pack has, and partial
    autonomy comes with options (see engine.packs.local_declarations)."""
    for f in check_declarations(b.data):
        b.problem(f.path, f.code, f.message, f.hint, f.key)
