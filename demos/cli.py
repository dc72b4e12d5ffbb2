"""The ``worldsim`` command (the console entry point; it lives with the apps, as it runs
them all). Subcommands import their modules lazily, so ``--help`` is fast.

Exit codes, the same for every subcommand: 0 done; 1 failed while running (no display, an
error inside); 2 refused its input (arguments, data, a checkpoint, a device), with one
line that says why; 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM) stopped by
a signal, with what was done saved. A subcommand refuses input by returning 2 or by
raising ``SystemExit("worldsim NAME: why")``, which this command prints and turns into 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys


USAGE = 2  # the exit code of refused input (argparse's too)

# command: (module with a main(argv), what it does); modules are imported only when run
COMMANDS = {
    "play": ("demos.play", "play a world in a window with keyboard and mouse"),
    "record": ("demos.record", "record an agent playing a dream or the real game to mp4 or GIF"),
    "collect": ("demos.collect", "record teacher play (episodes) to disk for training"),
    "bench": ("worldsim.bench", "time how fast each model preset produces frames on this machine"),
    "train": ("worldsim.training.train", "train a world model on collected episodes; the same command resumes"),
    "export": ("worldsim.export", "write a trained model as a half-precision folder to ship or share"),
    "agent": ("agents.cli", "train PPO in a dream or the real game; score agents (Crafter score, ...)"),
    "learn": ("demos.learn", "turn a Gymnasium game into a playable dream: collect, train, evaluate, export"),
    "eval": ("demos.model_eval", "measure a trained model against held-out teacher play (PSNR, SSIM, ...)"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    width = max(map(len, COMMANDS)) + 2
    parser = argparse.ArgumentParser(
        prog="worldsim", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="worldsim: a neural game engine. `worldsim COMMAND --help` for details.",
        epilog="commands:\n" + "\n".join(f"  {name:<{width}}{text}"
                                          for name, (_, text) in COMMANDS.items()))
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND",
                        help="one of the commands below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    ns = parser.parse_args(argv[:1])
    module = importlib.import_module(COMMANDS[ns.command][0])
    try:
        return module.main(argv[1:])
    except SystemExit as exc:
        if isinstance(exc.code, str):  # a refusal, worded by the subcommand
            print(exc.code, file=sys.stderr)
            return USAGE
        raise
    except ValueError as exc:
        device = sys.modules.get("worldsim.device")  # (imported by whatever could raise it)
        if device is None or not isinstance(exc, device.DeviceError):
            raise
        print(f"worldsim {ns.command}: {exc}", file=sys.stderr)  # from a model loaded below
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
