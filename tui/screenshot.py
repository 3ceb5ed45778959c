"""SVG screenshots of the main screens, on the demo data, for the README.

    python -m mazedsl_tui.screenshot                 # writes docs/tui.svg (four screens, 2 x 2)
    python -m mazedsl_tui.screenshot --each shots/   # also one SVG per screen
    python -m mazedsl_tui.screenshot --compare docs/compare.svg   # the Compare screen alone

The app runs headless on :func:`mazedsl_tui.demo.build_demo` run directories with the
real experiment files of :mod:`mazedsl_tui.demo`, so the pictures are the same every time.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from mazedsl_tui.app import MazeApp
from mazedsl_tui.demo import DemoLibrary, DemoWorkspace, build_demo

SIZE = (120, 34)
GAP = 24


async def _until(pilot: Any, predicate: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not settle")
        await pilot.pause(0.02)
    await pilot.pause()


async def _runs(pilot: Any, demo: DemoWorkspace) -> None:
    await _until(pilot, lambda: pilot.app.screen.query_one("#runs-table").row_count == 4)
    await pilot.press("down", "down")


async def _run_detail(pilot: Any, demo: DemoWorkspace) -> None:
    from mazedsl_tui.widgets.detail.curves import MetricsPlot

    app = pilot.app
    app.open_run(demo.runs / "cartpole_ppo" / "20260105-093012_3fa9c1")
    await _until(pilot, lambda: app.screen.is_mounted and getattr(app.screen, "records", None))
    await _until(pilot, lambda: all(p.point_count for p in app.screen.query(MetricsPlot)))


async def _experiments(pilot: Any, demo: DemoWorkspace) -> None:
    app = pilot.app
    app.open_diff(demo.experiments / "cartpole_ppo.py", demo.experiments / "pendulum_ppo.py")
    await _until(pilot, lambda: app.screen.query("#diff-table") and
                 app.screen.query_one("#diff-table").row_count > 0)


async def _rollout(pilot: Any, demo: DemoWorkspace) -> None:
    import numpy as np

    from mazedsl_tui.rollout import RolloutSource, Step

    def episode(seed: int | None, render_mode: str | None) -> Any:
        total = 0.0
        for t in range(500):
            total += 1.0
            theta = 0.18 * np.sin(t / 6)
            yield Step(t=t, observation=np.array([0.6, 0.0, theta, 0.0]), action=t % 2, reward=1.0,
                       terminated=False, truncated=False, episode_return=total,
                       state=np.array([0.6 + 0.3 * np.sin(t / 15), 0.0, theta, 0.0]), env_id="CartPole-v1")

    app = pilot.app
    app.push_rollout(RolloutSource(episode, env_id="CartPole-v1", title="cartpole_ppo/20260105-093012_3fa9c1",
                                   render_mode=None), paused=True)
    await _until(pilot, lambda: getattr(app.screen, "step", None) is not None)
    for _ in range(40):
        await pilot.press("n")


async def _compare(pilot: Any, demo: DemoWorkspace) -> None:
    from mazedsl_tui.demo import write_demo_sweep

    app = pilot.app
    sweep = write_demo_sweep(demo.runs)
    jobs = sorted(p.parent for p in sweep.glob("*/run.json"))
    app.open_compare(jobs, title="Compare cartpole_ppo/" + sweep.name)
    await _until(pilot, lambda: getattr(app.screen, "comparison", None) is not None)


SCREENS: list[tuple[str, str, Callable[[Any, DemoWorkspace], Awaitable[None]]]] = [
    ("runs", "runs", _runs),
    ("run", "runs", _run_detail),
    ("experiments", "runs", _experiments),
    ("rollout", "runs", _rollout),
]


async def _shoot(demo: DemoWorkspace, mode: str, drive: Callable[[Any, DemoWorkspace], Awaitable[None]],
                 name: str, each: Path | None) -> str:
    app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05, mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        await drive(pilot, demo)
        await pilot.pause(0.2)
        if each is not None:
            app.save_screenshot(f"{name}.svg", path=str(each))
        return app.export_screenshot(title=f"mazedsl tui · {name}")


def _viewbox(svg: str) -> tuple[float, float]:
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    if match is None:
        raise ValueError("an exported screenshot without a viewBox")
    return float(match.group(1)), float(match.group(2))


def compose(svgs: list[str], columns: int = 2) -> str:
    """One SVG showing the given screenshots in a grid."""
    width, height = _viewbox(svgs[0])
    rows = (len(svgs) + columns - 1) // columns
    total_w = columns * width + (columns - 1) * GAP
    total_h = rows * height + (rows - 1) * GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w:g} {total_h:g}" '
             f'width="{total_w:g}" height="{total_h:g}">']
    for i, svg in enumerate(svgs):
        x = (i % columns) * (width + GAP)
        y = (i // columns) * (height + GAP)
        body = svg[svg.index("<svg"):]
        body = body.replace("<svg", f'<svg x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}"', 1)
        parts.append(body)
    parts.append("</svg>\n")
    return "\n".join(parts)


async def _compare_shot(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(tmp)
        app = MazeApp(demo.experiments, demo.runs, library=DemoLibrary(), poll_interval=0.05)
        async with app.run_test(size=(120, 36)) as pilot:
            await _compare(pilot, demo)
            await pilot.pause(0.2)
            svg = app.export_screenshot(title="mazedsl tui · compare")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg, encoding="utf-8")


async def _main(out: Path, each: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(tmp)
        shots = [await _shoot(demo, mode, drive, name, each) for name, mode, drive in SCREENS]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(compose(shots), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mazedsl_tui.screenshot", description=__doc__,
                                     allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs/tui.svg", help="the composed SVG (default: docs/tui.svg)")
    parser.add_argument("--each", metavar="DIR", help="also write one SVG per screen into DIR")
    parser.add_argument("--compare", metavar="SVG", help="write only the Compare screen (a demo sweep) to SVG")
    args = parser.parse_args(argv)
    if args.compare:
        asyncio.run(_compare_shot(Path(args.compare)))
        print(f"wrote {args.compare}")
        return 0
    each = Path(args.each) if args.each else None
    if each is not None:
        each.mkdir(parents=True, exist_ok=True)
    asyncio.run(_main(Path(args.out), each))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
