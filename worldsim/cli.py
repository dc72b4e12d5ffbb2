"""The ``worldsim`` command. Subcommands import their modules lazily, so ``--help`` is fast."""
from __future__ import annotations

import argparse
import sys


def _play(argv) -> int:
    from demos import play

    return play.main(argv)


def _collect(argv) -> int:
    from demos import collect

    return collect.main(argv)


def _train(argv) -> int:
    from worldsim import train

    return train.main(argv)


def _bench(argv) -> int:
    from worldsim import bench

    return bench.main(argv)


def _record(argv) -> int:
    from demos import record

    return record.main(argv)


def _export(argv) -> int:
    from worldsim import export

    return export.main(argv)


def _eval(argv) -> int:
    from demos import evaluate

    return evaluate.main(argv)


COMMANDS = {
    "play": (_play, "play a world in a window with keyboard and mouse"),
    "record": (_record, "record an agent playing a dream or the real game to mp4 or GIF"),
    "collect": (_collect, "record teacher play (episodes) to disk for training"),
    "bench": (_bench, "time how fast each model preset produces frames on this machine"),
    "train": (_train, "train a world model (autoencoder, then dynamics) on collected episodes"),
    "export": (_export, "write a trained model as a half-precision folder to ship or share"),
    "eval": (_eval, "measure a trained model against held-out teacher play (PSNR, SSIM, ...)"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="worldsim",
        description="worldsim: a neural game engine. `worldsim COMMAND --help` for details.")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND",
                        help="; ".join(f"{name}: {text}" for name, (_, text) in COMMANDS.items()))
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    ns = parser.parse_args(argv[:1])
    return COMMANDS[ns.command][0](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
