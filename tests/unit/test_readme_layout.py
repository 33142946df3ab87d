"""The README's Layout section names every module of the engine, so the pipeline can be read
from it: a module added without a line there fails here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_engine_module_has_a_line_in_the_layout() -> None:
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "engine").rglob("*.py"))
        if p.name != "__init__.py" and p.name not in layout
    ]
    assert not missing, f"README.md's Layout section has no line for {missing}"


def test_layout_names_the_pipeline_stages_in_order() -> None:
    import engine

    readme = " ".join(ROOT.joinpath("README.md").read_text(encoding="utf-8").split())
    listed = readme.split("stages in the order they run (", 1)[1].split(")", 1)[0]
    assert [s.strip() for s in listed.split(",")] == [stage.name for stage in engine.STAGES]


def test_dependencies_section_names_every_runtime_dependency_where_it_belongs() -> None:
    """Core dependencies under Runtime, each extra's with it: `pip install` and the README agree."""
    import re
    import tomllib

    project = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text(encoding="utf-8"))["project"]
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("## Dependencies", 1)[1].split("\n## ", 1)[0]
    runtime, service = section.split("The decision service (extra `service`", 1)
    service = service.split("Tests and checks", 1)[0]

    def names(requirements: list[str]) -> set[str]:
        return {re.findall(r"^[\w-]+", r)[0].lower() for r in requirements}

    def bold(text: str) -> set[str]:
        return {re.findall(r"^[\w-]+", b)[0].lower() for b in re.findall(r"\*\*([^*]+)\*\*", text)}

    extras = project["optional-dependencies"]
    assert names(project["dependencies"]) <= bold(runtime)
    for extra in ("hmpps", "spark", "charts"):
        assert names(extras[extra]) <= bold(runtime), extra
    assert names(extras["service"]) <= bold(service)
