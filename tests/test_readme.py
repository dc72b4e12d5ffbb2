"""The README's Python examples run as written, on a fresh clone (no training run needed)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
NEEDS_A_RUN = "# needs a training run"  # a block with this comment is not run


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index, tmp_path):
    code = python_blocks()[index]
    if NEEDS_A_RUN in code:
        pytest.skip("the example needs a training run")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"README example {index}:\n{code}\n{result.stderr[-3000:]}"


def test_readme_table_of_the_bundled_dreams_is_their_evaluation(tmp_path, monkeypatch):
    """The README's figures of the bundled dreams are those of their metrics.json, and the
    check catches a figure edited by hand."""
    sys.path.insert(0, str(README.parent / "benchmarks"))
    import readme_tables

    assert readme_tables.main(["--check"]) == 0
    edited = tmp_path / "README.md"
    text = README.read_text()
    start = text.index(readme_tables.BEGIN)
    row = text.index("| teacher-forced next frame |", start)
    cell = text.index("/", row) - 5  # the first figure of that row
    edited.write_text(text[:cell] + "99.9 " + text[cell + 5:])
    monkeypatch.setattr(readme_tables, "README", edited)
    assert readme_tables.main(["--check"]) == 1


def shell_commands() -> list[str]:
    """Every command line of the README's bash blocks (continuations joined, comments cut)."""
    lines = []
    for block in re.findall(r"^```bash\n(.*?)^```", README.read_text(), re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def test_readme_has_worldsim_commands():
    commands = [c for c in shell_commands() if "worldsim " in c]
    assert len(commands) >= 10
    for name in ("play", "collect", "train", "eval", "record", "agent"):
        assert any(f"worldsim {name}" in c for c in commands), name


@pytest.mark.parametrize("line", [c for c in shell_commands() if "worldsim " in c])
def test_readme_worldsim_command_parses(line):
    """Each `worldsim ...` line of the README is one its command's parser accepts as
    written (an option renamed or removed fails here)."""
    import importlib
    import shlex

    from demos.cli import COMMANDS

    words = shlex.split(line)
    words = words[words.index("worldsim") + 1:]
    module = importlib.import_module(COMMANDS[words[0]][0])
    parser = module.build_parser()
    try:
        parser.parse_args(words[1:])
    except SystemExit as exc:
        pytest.fail(f"`{line}` is refused by its parser (exit {exc.code})")


def test_every_command_help_is_plain_text(capsys):
    """`worldsim COMMAND --help` shows no reStructuredText markup."""
    from demos.cli import COMMANDS, main

    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0, name
        text = capsys.readouterr().out
        assert text.strip(), name
        for markup in ("``", ":class:", ":mod:", ":func:", ":meth:"):
            assert markup not in text, f"worldsim {name} --help shows {markup}"
