"""Where a benchmark script writes its result: ``--json PATH`` if given, else
``benchmarks/results/<script>/<name>.json``."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_result(result: dict, script: str, name: str, path=None, indent: int = 2) -> Path:
    """Write ``result`` as JSON to ``path`` or to the script's results folder (a world id's
    slashes become underscores in ``name``), print where, and return the path."""
    path = Path(path) if path else RESULTS / script / f"{name.replace('/', '_')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=indent))
    print(f"written to {path}")
    return path
