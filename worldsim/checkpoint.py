"""Self-describing checkpoints: safetensors weights beside a JSON description.

A checkpoint is a folder::

    run/
      model.safetensors      the WorldModel's state_dict (every tensor, by its state_dict name)
      config.json            {"format": "worldsim-model", "version": 1,
                              "config": ModelConfig.to_dict(), "meta": {...how it was trained}}
      starts.safetensors     start contexts for dreams: "frames" (N, K, H, W, 3) uint8 of real
                             play and "actions" (N, K-1, A) int64, the actions between them
      optimizer.safetensors  (resumable runs only) every tensor of the optimizer's state,
                             under flattened names such as "state.3.exp_avg"
      training.json          (resumable runs only) {"format": "worldsim-training", "version": 1,
                              "step": ..., "extra": {...}, "optimizer": {...everything else}}

``config.json`` describes the model fully, so :func:`load_model` rebuilds it from the
folder alone: a folder can be copied, shared or bundled with nothing beside it. Weights are read only through
safetensors (never pickle), and every key and shape is compared with the freshly built
model before the model takes any of them: a missing key, an unexpected one, a wrong shape, a
truncated file or a model of another world is a :class:`CheckpointError` that names the
file and says what was expected.

Every file is written atomically (a hidden temporary file in the same folder, fsync,
``os.replace``), so an interrupted save leaves the previous file whole. A training run's
checkpoint is more than one file, so :func:`save_checkpoint` writes it as one unit: every
file into a fresh hidden folder beside it (``.model.tmp-PID``), which then takes the old
folder's place (the old one is moved aside to ``.model.old-PID`` first and deleted after).
Killed at any instant, a run folder holds the previous checkpoint or the new one, whole;
:func:`recover_checkpoint`, run when training starts, puts a checkpoint moved aside back
and deletes the leftovers of an interrupted save. Every file of such a save carries the
same random ``save_id``, and resuming refuses a folder whose files come from different
saves (as an older worldsim, which wrote the files one by one in place, could leave).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from worldsim.config import ModelConfig, RetiredModelError
from worldsim.device import check_device
from worldsim.model.world import WorldModel

MODEL_FORMAT = "worldsim-model"
MODEL_VERSION = 1  # bump when the layout of config.json changes
TRAINING_FORMAT = "worldsim-training"
TRAINING_VERSION = 1  # bump when the layout of training.json changes

WEIGHTS_FILE = "model.safetensors"
STARTS_FILE = "starts.safetensors"
STARTS_FORMAT = "worldsim-starts"
CONFIG_FILE = "config.json"
OPTIMIZER_FILE = "optimizer.safetensors"
TRAINING_FILE = "training.json"

SHOW_KEYS = 5  # offending keys listed in an error message (the rest are counted)
TEMP_FOLDER = ".{}.tmp-"  # + pid: a checkpoint being written, beside the one it replaces
OLD_FOLDER = ".{}.old-"  # + pid: the checkpoint being replaced, while the new one moves in

# For tests: "POINT" or "POINT@N" kills this process (SIGKILL) the Nth time (default the
# first) it reaches ``fault_point(POINT)``: inside a save (see save_checkpoint) or between
# training steps ("step"), to show that a kill at any instant loses nothing but time.
FAULT_ENV = "WORLDSIM_FAULT_AT"
_fault_counts: dict[str, int] = {}


class CheckpointError(ValueError):
    """A checkpoint folder that is missing, damaged, or not the model the caller asked for."""


# ---------------------------------------------------------------- atomic files


def fault_point(point: str) -> None:
    """A place where :data:`FAULT_ENV` may kill the process; nothing happens without it."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    name, _, nth = spec.partition("@")
    if name == point and _fault_counts[point] == int(nth or 1):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make renames and new files in ``folder`` durable, where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _commit(tmp: Path, path: Path) -> None:
    """fsync a finished temporary file and move it over ``path`` in one step, readable as
    any new file is (safetensors writes owner-only files; a bundled model must not be)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o666 & ~_umask())
    fault_point(f"wrote:{path.name}")
    os.replace(tmp, path)
    _fsync_folder(path.parent)
    fault_point(f"saved:{path.name}")


def _write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)``, then commit the temporary file to ``path``."""
    tmp = _temp_name(path)
    try:
        write(tmp)
        _commit(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _write_json(path: Path, obj: dict) -> None:
    text = json.dumps(obj, indent=2) + "\n"
    _write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Save tensors with safetensors; tensors made contiguous, and shared storage copied
    (safetensors stores each tensor on its own)."""
    seen: set[int] = set()
    out = {}
    for name, t in tensors.items():
        t = t.detach().contiguous()
        storage = t.untyped_storage().data_ptr()
        if t.numel() and storage in seen:
            t = t.clone()
        seen.add(storage)
        out[name] = t
    _write_atomic(path, lambda tmp: save_file(out, str(tmp), metadata=metadata))


def _to_json(obj: Any, what: str, path: Path) -> str:
    try:
        return json.dumps(obj)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot save {path}: {what} is not JSON-serialisable ({exc})") from exc


# ---------------------------------------------------------------- reading


def _require_folder(folder) -> Path:
    folder = Path(folder)
    if not folder.exists():
        moved = sorted(folder.parent.glob(OLD_FOLDER.format(folder.name) + "*"))
        if moved:  # a save killed between its two renames
            raise CheckpointError(f"checkpoint folder {folder} does not exist: a save into it "
                                  f"was interrupted (or is under way), and the checkpoint "
                                  f"before it is "
                                  f"{moved[-1]}; the same `worldsim train` command puts it "
                                  f"back (or rename it to {folder})")
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint {folder} is not a folder (expected a folder "
                              f"holding {WEIGHTS_FILE} and {CONFIG_FILE})")
    return folder


def _require_file(folder: Path, name: str, hint: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise CheckpointError(f"checkpoint {folder} has no {name} ({hint})")
    return path


def _read_json(path: Path, fmt: str, version: int) -> dict:
    """Read a checkpoint's JSON file and check its format tag and version."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); expected a {fmt} description") from exc
    if not isinstance(doc, dict):
        raise CheckpointError(f"{path} holds a JSON {type(doc).__name__}, expected an object "
                              f"with \"format\": \"{fmt}\"")
    if doc.get("format") != fmt:
        raise CheckpointError(f"{path} has format {doc.get('format')!r}, expected {fmt!r}")
    if doc.get("version") != version:
        raise CheckpointError(f"{path} has version {doc.get('version')!r}; this worldsim reads "
                              f"version {version}")
    return doc


def _read_tensors(path: Path, device: str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read every tensor and the string header of a safetensors file."""
    try:
        tensors = load_file(str(path), device=device)
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file (truncated or "
                              f"corrupt?): {exc}") from exc
    return tensors, header


def _listing(keys, shapes: dict | None = None) -> str:
    keys = sorted(keys)
    shown = [f"{k} {tuple(shapes[k])}" if shapes else k for k in keys[:SHOW_KEYS]]
    more = f" and {len(keys) - SHOW_KEYS} more" if len(keys) > SHOW_KEYS else ""
    return ", ".join(shown) + more


def _check_state_dict(path: Path, got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    """Every key present, none extra, every shape equal; else one error listing the culprits."""
    problems = []
    missing = set(want) - set(got)
    unexpected = set(got) - set(want)
    wrong = [k for k in set(want) & set(got) if got[k].shape != want[k].shape]
    if missing:
        problems.append(f"missing key(s): {_listing(missing, {k: want[k].shape for k in missing})}")
    if unexpected:
        problems.append(f"unexpected key(s): {_listing(unexpected, {k: got[k].shape for k in unexpected})}")
    if wrong:
        wrong.sort()
        shown = [f"{k} has shape {tuple(got[k].shape)}, the config gives {tuple(want[k].shape)}"
                 for k in wrong[:SHOW_KEYS]]
        more = f" and {len(wrong) - SHOW_KEYS} more" if len(wrong) > SHOW_KEYS else ""
        problems.append("shape mismatch: " + "; ".join(shown) + more)
    if wrong:  # the sizes differ: say so first, then the details
        sizes = [sum(t.numel() for t in d.values()) / 1e6 for d in (got, want)]
        problems.insert(0, f"the sizes differ: {path.name} holds a model of {sizes[0]:.2f}M "
                           f"parameters, {CONFIG_FILE} describes one of {sizes[1]:.2f}M (is "
                           f"{CONFIG_FILE} from another preset or run?)")
    if problems:
        raise CheckpointError(f"{path} does not fit the model described by its {CONFIG_FILE}: "
                              + " | ".join(problems))


# ---------------------------------------------------------------- the model


def _tagged(header: dict[str, str], save_id: str | None) -> dict[str, str]:
    return dict(header, save_id=save_id) if save_id else header


def save_model(folder, model: WorldModel, meta: dict | None = None,
               dtype: torch.dtype | None = None, save_id: str | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``folder`` (created if needed).

    ``meta`` is free JSON about how the model was made (data, steps, preset, time,
    hardware); it comes back from :func:`load_model`. ``dtype`` (e.g. ``torch.float16``)
    stores floating-point tensors at that precision, half the size for shipping; loading
    casts them back to the model's float32. ``save_id`` marks both files as parts of one
    save (see :func:`save_checkpoint`). Returns the folder.
    """
    folder = Path(folder)
    doc = {"format": MODEL_FORMAT, "version": MODEL_VERSION,
           "config": model.cfg.to_dict(), "meta": dict(meta or {})}
    if save_id:
        doc["save_id"] = save_id
    _to_json(doc, "meta", folder / CONFIG_FILE)  # fail before writing anything
    folder.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    _write_tensors(folder / WEIGHTS_FILE, state,
                   _tagged({"format": MODEL_FORMAT, "version": str(MODEL_VERSION)}, save_id))
    _write_json(folder / CONFIG_FILE, doc)
    return folder


def read_config(folder) -> tuple[ModelConfig, dict]:
    """The config and meta of a checkpoint folder, without reading its weights."""
    folder = _require_folder(folder)
    path = _require_file(folder, CONFIG_FILE, "the description of the model")
    doc = _read_json(path, MODEL_FORMAT, MODEL_VERSION)
    if not isinstance(doc.get("config"), dict):
        raise CheckpointError(f"{path} has no \"config\" object (expected ModelConfig fields)")
    try:
        cfg = ModelConfig.from_dict(doc["config"])
    except RetiredModelError as exc:
        raise CheckpointError(f"{path} describes {exc}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path} is not a valid worldsim model config: {exc}") from exc
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} has a \"meta\" of type {type(meta).__name__}, expected an object")
    return cfg, meta


def _check_expected(folder: Path, cfg: ModelConfig, world, image_size, action_nvec) -> None:
    """Refuse a checkpoint of another world, image size or action space than asked for."""
    if world is not None and cfg.world != world:
        raise CheckpointError(f"checkpoint {folder} is a model of world {cfg.world!r}, not {world!r}")
    if image_size is not None and cfg.autoencoder.image_size != int(image_size):
        raise CheckpointError(f"checkpoint {folder} is a model of {cfg.autoencoder.image_size}x"
                              f"{cfg.autoencoder.image_size} frames, not {image_size}x{image_size}")
    if action_nvec is not None:
        want = tuple(int(n) for n in action_nvec)
        if tuple(cfg.dynamics.action_nvec) != want:
            raise CheckpointError(f"checkpoint {folder} is a model of the action space (nvec) "
                                  f"{list(cfg.dynamics.action_nvec)}, not {list(want)}")


def load_model(folder, device="cpu", world: str | None = None, image_size: int | None = None,
               action_nvec=None) -> tuple[WorldModel, dict]:
    """Rebuild a model from its folder: returns ``(model, meta)``, the model in eval mode
    on ``device``.

    ``world``, ``image_size`` and ``action_nvec``, when given, are what the caller needs;
    a checkpoint of anything else is refused before its weights are read.
    """
    folder = _require_folder(folder)
    cfg, meta = read_config(folder)
    _check_expected(folder, cfg, world, image_size, action_nvec)
    weights = _require_file(folder, WEIGHTS_FILE, "the model's weights")
    device = check_device(device)
    model = WorldModel(cfg).to(device)
    state, header = _read_tensors(weights, device=str(device))
    if header.get("format", MODEL_FORMAT) != MODEL_FORMAT:
        raise CheckpointError(f"{weights} holds {header['format']!r} tensors, expected {MODEL_FORMAT!r}")
    _check_state_dict(weights, state, model.state_dict())
    model.load_state_dict(state, strict=True)
    return model.eval(), meta


# ---------------------------------------------------------------- start contexts


def save_starts(folder, frames, actions, save_id: str | None = None) -> Path:
    """Write the start contexts of a model's dreams: ``frames`` (N, K, H, W, 3) uint8 of
    real play and ``actions`` (N, K-1, A), the actions taken between them."""
    frames = torch.as_tensor(frames)
    actions = torch.as_tensor(actions).long()
    if frames.dim() != 5 or frames.dtype != torch.uint8 or frames.shape[-1] != 3:
        raise ValueError(f"start frames must be (N, K, H, W, 3) uint8, got {tuple(frames.shape)} "
                         f"{frames.dtype}")
    if actions.dim() != 3 or actions.shape[:2] != (frames.shape[0], frames.shape[1] - 1):
        raise ValueError(f"start actions must be (N, K-1, A) = ({frames.shape[0]}, "
                         f"{frames.shape[1] - 1}, A), got {tuple(actions.shape)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STARTS_FILE
    _write_tensors(path, {"frames": frames, "actions": actions},
                   _tagged({"format": STARTS_FORMAT}, save_id))
    return path


def load_starts(folder, cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The start contexts shipped with a checkpoint, checked against its model config:
    frames (N, K, H, W, 3) uint8 with K >= context, actions (N, K-1, A) inside the space."""
    folder = _require_folder(folder)
    path = _require_file(folder, STARTS_FILE, "the start contexts dreams begin from; "
                         "`worldsim train` writes them")
    tensors, header = _read_tensors(path)
    if header.get("format") != STARTS_FORMAT or set(tensors) != {"frames", "actions"}:
        raise CheckpointError(f"{path} is not a worldsim start-context file (expected tensors "
                              f"'frames' and 'actions', format {STARTS_FORMAT!r})")
    frames, actions = tensors["frames"], tensors["actions"]
    S, ctx = cfg.autoencoder.image_size, cfg.dynamics.context
    nvec = torch.tensor(cfg.dynamics.action_nvec)
    if (frames.dim() != 5 or frames.dtype != torch.uint8 or tuple(frames.shape[2:]) != (S, S, 3)
            or frames.shape[1] < ctx or len(frames) == 0):
        raise CheckpointError(f"{path}: frames {tuple(frames.shape)} {frames.dtype} do not fit "
                              f"the model (expected (N, K>={ctx}, {S}, {S}, 3) uint8)")
    if (actions.dim() != 3 or tuple(actions.shape) != (len(frames), frames.shape[1] - 1, len(nvec))
            or bool(((actions < 0) | (actions >= nvec)).any())):
        raise CheckpointError(f"{path}: actions {tuple(actions.shape)} do not fit the model's "
                              f"action space {list(cfg.dynamics.action_nvec)}")
    return frames, actions.long()


# ---------------------------------------------------------------- training state


def _encode(value, name: str, tensors: dict[str, torch.Tensor]) -> dict:
    """One optimizer value as a tagged JSON record; tensors go to ``tensors`` under ``name``."""
    if isinstance(value, torch.Tensor):
        tensors[name] = value
        return {"tensor": name}
    if isinstance(value, tuple):  # JSON has no tuples; keep them tuples (e.g. Adam's betas)
        return {"tuple": list(value)}
    return {"value": value}


def _decode(record, tensors: dict[str, torch.Tensor], path: Path):
    if not isinstance(record, dict) or len(record) != 1:
        raise CheckpointError(f"{path}: malformed optimizer entry {record!r}")
    (tag, value), = record.items()
    if tag == "tensor":
        if value not in tensors:
            raise CheckpointError(f"{path} names tensor {value!r}, which its {OPTIMIZER_FILE} lacks")
        return tensors[value]
    if tag == "tuple" and isinstance(value, list):
        return tuple(value)
    if tag == "value":
        return value
    raise CheckpointError(f"{path}: unknown optimizer entry tag {tag!r}")


def save_training_state(folder, optimizer: torch.optim.Optimizer, step: int, extra: dict,
                        save_id: str | None = None) -> None:
    """Write what resuming needs beside the model: ``optimizer.safetensors`` (every tensor
    of the optimizer's state) and ``training.json`` (everything else, ``step`` and ``extra``,
    e.g. data-order RNG state and the run's arguments, as JSON). Both carry ``save_id``
    (a new one if not given)."""
    folder = Path(folder)
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    state = {str(pid): {key: _encode(v, f"state.{pid}.{key}", tensors) for key, v in entries.items()}
             for pid, entries in sd["state"].items()}
    groups = [{key: _encode(v, f"param_groups.{g}.{key}", tensors) for key, v in group.items()}
              for g, group in enumerate(sd["param_groups"])]
    save_id = save_id or uuid.uuid4().hex
    doc = {"format": TRAINING_FORMAT, "version": TRAINING_VERSION, "save_id": save_id,
           "step": int(step), "extra": dict(extra or {}),
           "optimizer": {"type": type(optimizer).__name__, "param_groups": groups, "state": state}}
    _to_json(doc, "the optimizer's plain values or extra", folder / TRAINING_FILE)
    folder.mkdir(parents=True, exist_ok=True)
    _write_tensors(folder / OPTIMIZER_FILE, {k: v.cpu() for k, v in tensors.items()},
                   {"format": TRAINING_FORMAT, "version": str(TRAINING_VERSION), "save_id": save_id})
    _write_json(folder / TRAINING_FILE, doc)


def load_training_state(folder, optimizer: torch.optim.Optimizer) -> tuple[int, dict]:
    """Restore ``optimizer`` exactly as :func:`save_training_state` found it; returns
    ``(step, extra)``. The optimizer must be built over the same parameters, in the same
    groups, as the saved one."""
    folder = _require_folder(folder)
    path = _require_file(folder, TRAINING_FILE, "this checkpoint was saved without training state")
    tpath = _require_file(folder, OPTIMIZER_FILE, "the optimizer's tensors")
    doc = _read_json(path, TRAINING_FORMAT, TRAINING_VERSION)
    tensors, header = _read_tensors(tpath)
    if not isinstance(doc.get("step"), int) or not isinstance(doc.get("extra", {}), dict):
        raise CheckpointError(f"{path} needs an integer \"step\" and an \"extra\" object")
    _check_one_save(folder, doc, header)
    opt = doc.get("optimizer")
    if not isinstance(opt, dict) or not isinstance(opt.get("param_groups"), list) \
            or not isinstance(opt.get("state"), dict):
        raise CheckpointError(f"{path} has no optimizer param_groups and state")
    if opt.get("type") != type(optimizer).__name__:
        raise CheckpointError(f"{path} is the state of a {opt.get('type')} optimizer, not "
                              f"{type(optimizer).__name__}")

    groups = [{key: _decode(r, tensors, path) for key, r in g.items()} for g in opt["param_groups"]]
    if len(groups) != len(optimizer.param_groups):
        raise CheckpointError(f"{path} has {len(groups)} parameter group(s), the optimizer "
                              f"{len(optimizer.param_groups)}")
    for g, (saved, live) in enumerate(zip(groups, optimizer.param_groups)):
        if len(saved.get("params", [])) != len(live["params"]):
            raise CheckpointError(f"{path}: parameter group {g} has {len(saved.get('params', []))} "
                                  f"parameters, the optimizer's {len(live['params'])}; "
                                  f"is this the same model?")
    ids = {pid for g in groups for pid in g["params"]}
    try:
        state = {int(pid): {key: _decode(r, tensors, path) for key, r in entries.items()}
                 for pid, entries in opt["state"].items()}
    except (ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: malformed optimizer state ({exc})") from exc
    strays = set(state) - ids
    if strays:
        raise CheckpointError(f"{path} has state for parameter id(s) {sorted(strays)[:SHOW_KEYS]} "
                              f"that no parameter group lists")
    used = {r["tensor"] for g in opt["param_groups"] for r in g.values() if "tensor" in r} | \
           {r["tensor"] for e in opt["state"].values() for r in e.values() if "tensor" in r}
    if set(tensors) - used:
        raise CheckpointError(f"{tpath} has tensor(s) {_listing(set(tensors) - used)} that "
                              f"{path} does not name")
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not fit this optimizer: {exc}") from exc
    return int(doc["step"]), doc.get("extra", {})


# ---------------------------------------------------------------- a training run's checkpoint


def _header(path: Path) -> dict[str, str]:
    """The string header of a safetensors file, without reading its tensors."""
    try:
        with safe_open(str(path), framework="pt") as fh:
            return fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file (truncated or "
                              f"corrupt?): {exc}") from exc


def _check_one_save(folder: Path, training: dict, optimizer_header: dict) -> None:
    """Refuse a folder whose files come from different saves: by their ``save_id`` (files
    written before save ids were shared carry none) and by the step that ``config.json``
    and ``training.json`` record."""
    ids = {TRAINING_FILE: training.get("save_id"), OPTIMIZER_FILE: optimizer_header.get("save_id")}
    for name in (WEIGHTS_FILE, STARTS_FILE):
        if (folder / name).is_file():
            ids[name] = _header(folder / name).get("save_id")
    meta: dict = {}
    if (folder / CONFIG_FILE).is_file():
        doc = _read_json(folder / CONFIG_FILE, MODEL_FORMAT, MODEL_VERSION)
        ids[CONFIG_FILE] = doc.get("save_id")
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    problems = []
    known = {name: i for name, i in ids.items() if i is not None}
    if len(set(known.values())) > 1:
        problems.append(", ".join(f"{name} of save {i[:8]}" for name, i in known.items()))
    phase, step = training.get("extra", {}).get("phase"), training.get("step")
    if (meta.get("step") is not None and meta["step"] != step) or \
            (meta.get("phase") is not None and phase is not None and meta["phase"] != phase):
        problems.append(f"{CONFIG_FILE} at {meta.get('phase')} step {meta.get('step')}, "
                        f"{TRAINING_FILE} at {phase} step {step}")
    if problems:
        raise CheckpointError(
            f"{folder} holds files of different saves ({'; '.join(problems)}): a save was "
            f"interrupted while an older worldsim wrote its files one by one. To go on from "
            f"its weights ({WEIGHTS_FILE} and {CONFIG_FILE}) with a fresh optimizer, delete "
            f"{folder / TRAINING_FILE} and {folder / OPTIMIZER_FILE}; or start again with "
            f"another --out")


def save_checkpoint(folder, model: WorldModel, meta: dict, optimizer: torch.optim.Optimizer,
                    step: int, extra: dict, starts=None) -> Path:
    """Write a resumable checkpoint as one unit: the model (:func:`save_model`), the start
    contexts ``starts`` = (frames, actions) if given (:func:`save_starts`) and the training
    state (:func:`save_training_state`), all with one ``save_id``, into a fresh folder
    beside ``folder`` that then takes its place. Killed at any instant, ``folder`` is the
    previous checkpoint or this one (after :func:`recover_checkpoint`), never a mix."""
    folder = Path(folder)
    save_id = uuid.uuid4().hex
    tmp = folder.with_name(TEMP_FOLDER.format(folder.name) + str(os.getpid()))
    old = folder.with_name(OLD_FOLDER.format(folder.name) + str(os.getpid()))
    for stale in (tmp, old):
        _remove(stale)
    try:
        tmp.mkdir(parents=True)
        if starts is not None:
            save_starts(tmp, *starts, save_id=save_id)
        save_model(tmp, model, meta, save_id=save_id)
        save_training_state(tmp, optimizer, step, extra, save_id=save_id)
        if folder.exists():
            os.replace(folder, old)
            fault_point("swap:moved-old")
        os.replace(tmp, folder)
        _fsync_folder(folder.parent)
        fault_point("swap:done")
        _remove(old)
    finally:
        _remove(tmp)
    return folder


def recover_checkpoint(folder) -> list[str]:
    """Undo what an interrupted :func:`save_checkpoint` left: the checkpoint it had moved
    aside goes back in place if the new one had not taken it, and unfinished folders and
    temporary files (also those of older worldsims' saves inside ``folder``) are deleted.
    Returns a sentence for each thing done that a person should know of."""
    folder = Path(folder)
    if not folder.parent.is_dir():
        return []
    said = []
    moved = sorted(folder.parent.glob(OLD_FOLDER.format(folder.name) + "*"),
                   key=lambda p: p.stat().st_mtime)
    if moved and not folder.exists():
        os.replace(moved.pop(), folder)
        _fsync_folder(folder.parent)
        said.append(f"a save was interrupted before it was complete; went back to the "
                    f"checkpoint before it in {folder}")
    for leftover in moved + list(folder.parent.glob(TEMP_FOLDER.format(folder.name) + "*")):
        _remove(leftover)
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            _remove(leftover)
    return said
