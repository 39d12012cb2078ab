"""python -m synthetic DATA_DIR [--scale S] [--years 2017-2022] [--seed N] [--workers N] [--check]"""

import argparse
import json
import sys
import time
from pathlib import Path

from synthetic import generate


def parse_years(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthetic", description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--years", type=parse_years, default=list(range(2017, 2023)))
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--check", action="store_true", help="recompute the national figures afterwards")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(label: str, done: int, total: int) -> None:
        print(f"\r{done}/{total} {label}   ", end="", file=sys.stderr, flush=True)

    summary = generate(args.data_dir, args.scale, args.years, args.seed, progress, workers=args.workers)
    print(f"\n{time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(json.dumps(summary, indent=1))
    if args.check:
        from synthetic.calibration import national_figures

        print(json.dumps(national_figures(args.data_dir), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
