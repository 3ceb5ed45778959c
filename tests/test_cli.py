"""The command line, run as real subprocesses on tiny budgets."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CARTPOLE = str(ROOT / "experiments" / "cartpole_ppo.py")
TINY = ["total_steps=512", "eval_every_steps=256", "eval_episodes=2", "runner.n_envs=2",
        "algorithm.n_steps=32", "algorithm.batch_size=64", "algorithm.n_epochs=2"]


def run(cmd: list[str], cwd: Path, check: bool = True, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=240, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def mazedsl(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return run([str(BIN / "mazedsl"), *args], cwd, check)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    proc = mazedsl("train", CARTPOLE, *TINY, "--json", cwd=cwd)
    result = json.loads(proc.stdout)
    return cwd, Path(result["run_dir"]), result


def test_train_json_summary_and_run_dir(trained_run):
    cwd, run_dir, result = trained_run
    assert result["steps"] == 512 and result["stopped"] == "budget"
    assert (cwd / run_dir / "checkpoints" / "best.pt").is_file()
    assert json.loads((cwd / run_dir / "run.json").read_text())["status"] == "finished"


def test_eval_latest_and_experiment_latest(trained_run):
    cwd, run_dir, _ = trained_run
    out = json.loads(mazedsl("eval", "latest", "--episodes", "3", "--json", cwd=cwd).stdout)
    assert len(out["returns"]) == 3 and out["min_return"] <= out["mean_return"] <= out["max_return"]
    text = mazedsl("eval", "cartpole_ppo:latest", "--episodes", "2", "--checkpoint", "last", cwd=cwd).stdout
    assert "mean return" in text and "over 2 episodes" in text


def test_rollout_saves_episodes(trained_run):
    cwd, run_dir, _ = trained_run
    out = json.loads(mazedsl("rollout", str(run_dir), "--episodes", "2", "--json", cwd=cwd).stdout)
    assert len(out["returns"]) == 2
    assert len(list((cwd / run_dir / "rollouts").glob("*.npz"))) >= 2


def test_mazedsl_run_rollouts_continue_the_seeds_and_a_seed_reproduces(trained_run, tmp_path):
    import numpy as np

    cwd, run_dir, _ = trained_run
    copy = tmp_path / "copy"
    shutil.copytree(cwd / run_dir, copy, ignore=shutil.ignore_patterns("rollouts"))
    base = [str(BIN / "mazedsl-run"), "-cn", "conf_rollout", f"input_dir={copy}", "runner.n_episodes=2"]
    for extra in ([], [], ["seed=7"], ["seed=7"]):
        run(base + extra, tmp_path)
    first = [np.load(f)["observations"][0] for f in sorted((copy / "rollouts").glob("*.npz"))]
    assert len(first) == 8
    # two calls without a seed: four different episodes; the same explicit seed: the same two
    assert len({tuple(o) for o in first[:4]}) == 4
    assert all(np.array_equal(a, b) for a, b in zip(first[4:6], first[6:8]))


def test_runs_table(trained_run):
    cwd, run_dir, _ = trained_run
    rows = json.loads(mazedsl("runs", "--json", cwd=cwd).stdout)
    assert rows[0]["experiment"] == "cartpole_ppo" and rows[0]["status"] == "finished"
    assert rows[0]["algorithm"] == "PPO" and rows[0]["env"] == "CartPole-v1"
    table = mazedsl("runs", "cartpole_ppo", cwd=cwd).stdout
    assert "cartpole_ppo" in table and "finished" in table
    name = str(Path(rows[0]["path"]).relative_to("outputs"))
    assert name.startswith("cartpole_ppo/") and name.split("/")[1] in table
    assert "over 2 episodes" in mazedsl("eval", name, "--episodes", "2", cwd=cwd).stdout
    assert "no runs" in mazedsl("runs", "nothing_here", cwd=cwd).stdout


def test_show_explain_and_diff(tmp_path):
    shown = mazedsl("show", CARTPOLE, "algorithm.lr=0.002", cwd=tmp_path).stdout
    assert "lr: 0.002" in shown and "_target_: mazedsl.rl.algos.ppo.PPO" in shown
    explained = mazedsl("show", CARTPOLE, "--explain", "algorithm.lr", cwd=tmp_path).stdout
    assert "cartpole_ppo.py:" in explained
    explained = mazedsl("show", CARTPOLE, "algorithm.lr=0.002", "--explain", "algorithm.lr",
                        cwd=tmp_path).stdout
    assert "algorithm.lr=0.002" in explained
    diff = json.loads(mazedsl("diff", CARTPOLE, str(ROOT / "experiments" / "cartpole_a2c.py"), "--json",
                              cwd=tmp_path).stdout)
    paths = {d["path"] for d in diff}
    assert "algorithm._target_" in paths or "algorithm" in {p.split(".")[0] for p in paths}


@pytest.mark.parametrize("args, expected", [
    (["train", CARTPOLE, "algorithm.lr=-1"], "algorithm.lr: must be > 0"),
    (["train", CARTPOLE, "algorithm.lrr=1"], "did you mean 'lr'"),
    (["train", CARTPOLE, "algorithm=nope"], "nope"),
    (["train", CARTPOLE, "env.name=CartPol-v1", "total_steps=64"], "did you mean 'CartPole-v1'"),
    (["train", "no_such_file.py"], "no_such_file"),
    (["eval", "does/not/exist"], "does/not/exist"),
    (["eval", "latest"], "no run"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, expected):
    proc = mazedsl(*args, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2


def test_help_of_every_command(tmp_path):
    top = mazedsl("--help", cwd=tmp_path).stdout
    for cmd in ("train", "eval", "rollout", "runs", "show", "diff", "tui"):
        assert cmd in top
        assert "usage: mazedsl " + cmd in mazedsl(cmd, "--help", cwd=tmp_path).stdout


SWEEP_KEYS = {"schema", "kind", "experiment", "sweep_dir", "command", "created", "jobs", "groups"}
JOB_KEYS = {"job", "run_dir", "overrides", "params", "status", "final_eval", "best_eval", "steps",
            "wall_s", "error"}
GROUP_KEYS = {"params", "label", "jobs", "n", "n_failed", "final_eval_mean", "final_eval_std",
              "best_eval_mean", "best_eval_std"}


def check_sweep(doc: dict, n_jobs: int, swept: set[str], n_groups: int) -> None:
    """The one sweep.json schema of both sweep paths, with groups' mean ± std across seeds."""
    import statistics

    assert set(doc) == SWEEP_KEYS and doc["schema"] == 1 and doc["kind"] == "sweep"
    jobs = {j["job"]: j for j in doc["jobs"]}
    assert sorted(jobs) == [f"job_{i:03d}" for i in range(n_jobs)]
    assert all(set(j) == JOB_KEYS and set(j["params"]) == swept for j in jobs.values())
    assert all(Path(j["run_dir"]).name == j["job"] for j in jobs.values())
    assert len(doc["groups"]) == n_groups
    for group in doc["groups"]:
        assert set(group) == GROUP_KEYS and "seed" not in group["params"]
        members = [jobs[name] for name in group["jobs"]]
        assert all({k: v for k, v in m["params"].items() if k != "seed"} == group["params"]
                   for m in members)
        finals = [m["final_eval"] for m in members if m["status"] == "finished"]
        assert group["n"] == len(members) and group["n_failed"] == len(members) - len(finals)
        if len(finals) > 1:
            assert group["final_eval_mean"] == pytest.approx(statistics.fmean(finals))
            assert group["final_eval_std"] == pytest.approx(statistics.stdev(finals))


def test_sweep_with_seeds_and_parallel_jobs(tmp_path):
    proc = mazedsl("train", CARTPOLE, *TINY, "--sweep", "algorithm.lr=1e-3,3e-4", "--seeds", "2",
                   "--jobs", "2", cwd=tmp_path)
    (sweep_json,) = tmp_path.glob("outputs/**/sweep.json")
    result = json.loads(sweep_json.read_text())
    assert len(result["jobs"]) == 4 and all(j["status"] == "finished" for j in result["jobs"])
    evals = [j["best_eval"] for j in result["jobs"]]
    assert evals == sorted(evals, reverse=True)
    check_sweep(result, 4, {"algorithm.lr", "seed"}, 2)
    assert sorted(g["label"] for g in result["groups"]) == ["algorithm.lr=0.0003", "algorithm.lr=0.001"]
    # the printed tables: every job, then each configuration's mean ± std over its seeds
    assert f"sweep {sweep_json.parent.relative_to(tmp_path)} (4 jobs, 0 failed)" in proc.stdout
    assert "by configuration (mean ± std over seeds)" in proc.stdout and " ± " in proc.stdout


def test_sweep_reports_a_failing_job(tmp_path):
    # a crash inside each job: an env whose reset fails, which the sweep's up-front check
    # (it makes each env once and reads its spaces) cannot see
    bad = tmp_path / "bad.py"
    bad.write_text("import gymnasium as gym\n"
                   "from mazedsl import Experiment, GymEnv\n"
                   "class Broken(gym.Wrapper):\n"
                   "    def reset(self, **kwargs):\n"
                   "        raise RuntimeError('nope: this env cannot reset')\n"
                   "def make():\n"
                   "    return Broken(gym.make('CartPole-v1'))\n"
                   "experiment = Experiment(name='bad', env=GymEnv(factory='bad:make'), total_steps=64)\n")
    proc = mazedsl("train", str(bad), "--sweep", "seed=0,1", "--json", cwd=tmp_path, check=False)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    jobs = doc["jobs"]
    assert [j["status"] for j in jobs] == ["failed", "failed"]
    assert all(j["best_eval"] is None and "nope" in j["error"] for j in jobs), jobs
    check_sweep(doc, 2, {"seed"}, 1)
    assert doc["groups"][0]["n_failed"] == 2 and doc["groups"][0]["final_eval_mean"] is None
    sweep_dir = Path(doc["sweep_dir"])  # --json prints what the sweep wrote
    saved = (sweep_dir if sweep_dir.is_absolute() else tmp_path / sweep_dir) / "sweep.json"
    assert json.loads(saved.read_text()) == doc


def hydra_run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return run([str(BIN / "mazedsl-run"), *args], cwd, check)


HYDRA_TINY = ["total_steps=256", "eval_every_steps=128", "eval_episodes=2", "runner.n_envs=2",
              "algorithm.n_steps=128", "log_every_steps=64"]


def test_mazedsl_run_trains_then_rolls_out(tmp_path):
    proc = hydra_run("-cn", "conf_train", "env.name=CartPole-v1", "algorithm=a2c", "model=vector_obs",
                     "critic=template_state", *HYDRA_TINY, cwd=tmp_path)
    run_dir = Path(proc.stdout.split("run directory: ")[1].split()[0])
    run_dir = run_dir if run_dir.is_absolute() else tmp_path / run_dir
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    cfg = (run_dir / "config.yaml").read_text()
    assert "mazedsl.rl.algos.a2c.A2C" in cfg
    out = hydra_run("-cn", "conf_rollout", f"input_dir={run_dir}", "runner.n_episodes=3", cwd=tmp_path).stdout
    assert "over 3 episodes" in out and "mean return" in out
    rnd = hydra_run("-cn", "conf_rollout", "policy=random", "env=gym_env", "env.name=CartPole-v1",
                    "runner.n_episodes=2", cwd=tmp_path).stdout
    assert "over 2 episodes" in rnd


def test_mazedsl_run_matches_run_context(tmp_path):
    from mazedsl import RunContext
    from mazedsl.run import iter_metrics

    proc = hydra_run("-cn", "conf_train", "env.name=CartPole-v1", "algorithm=a2c", "model=vector_obs",
                     "critic=template_state", *HYDRA_TINY, cwd=tmp_path)
    cli_dir = Path(proc.stdout.split("run directory: ")[1].split()[0])
    cli_dir = cli_dir if cli_dir.is_absolute() else tmp_path / cli_dir
    overrides = {"env.name": "CartPole-v1", "total_steps": 256, "eval_every_steps": 128,
                 "eval_episodes": 2, "runner.n_envs": 2, "algorithm.n_steps": 128, "log_every_steps": 64}
    ctx = RunContext(algorithm="a2c", overrides=overrides, model="vector_obs", critic="template_state",
                     run_dir=tmp_path / "py", silent=True)
    ctx.train()
    assert (tmp_path / "py" / "config.yaml").read_text() == (cli_dir / "config.yaml").read_text()

    def strip(d):
        return [{k: v for k, v in r.items() if k not in ("time", "steps_per_s")}
                for r in iter_metrics(d / "metrics.jsonl")]

    assert strip(tmp_path / "py") == strip(cli_dir)


def test_mazedsl_run_help_lists_groups(tmp_path):
    out = hydra_run("--help", cwd=tmp_path).stdout
    for group in ("algorithm: a2c, bc, dqn, ppo, sac", "model: pixel_obs, vector_obs", "runner:"):
        assert group in out
    cfg = hydra_run("-cn", "conf_train", "algorithm=a2c", "--cfg", "job", cwd=tmp_path).stdout
    assert "mazedsl.rl.algos.a2c.A2C" in cfg


def test_mazedsl_run_multirun_with_failure_and_joblib(tmp_path):
    proc = hydra_run("-cn", "conf_train", "-m", "algorithm=a2c,ppo", "seed=0,1", *HYDRA_TINY,
                     "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", cwd=tmp_path)
    sweeps = list(tmp_path.glob("outputs/**/sweep.json"))
    assert len(sweeps) == 1
    doc = json.loads(sweeps[0].read_text())
    jobs = doc["jobs"]
    assert len(jobs) == 4 and all(j["status"] == "finished" for j in jobs)
    assert "4 jobs, 0 failed" in proc.stdout.replace("\n", " ")
    check_sweep(doc, 4, {"algorithm", "seed"}, 2)
    assert sorted(g["label"] for g in doc["groups"]) == ["algorithm=a2c", "algorithm=ppo"]
    assert "by configuration (mean ± std over seeds)" in proc.stdout
    # a job that fails only when it runs (Acrobot has no native vector env) is listed as failed
    (tmp_path / "bad").mkdir()
    bad = hydra_run("-cn", "conf_train", "-m", "runner.vectorization=sync,native", "env.name=Acrobot-v1",
                    *HYDRA_TINY, cwd=tmp_path / "bad", check=False)
    assert bad.returncode == 1
    assert "1 failed" in bad.stdout.replace("\n", " ")
    assert "has no native vector env" in bad.stdout + bad.stderr
    failed = json.loads(next((tmp_path / "bad").glob("outputs/**/job_001/run.json")).read_text())
    assert failed["status"] == "failed" and failed["env"] == "Acrobot-v1"
    doc = json.loads(next((tmp_path / "bad").glob("outputs/**/sweep.json")).read_text())
    check_sweep(doc, 2, {"runner.vectorization"}, 2)
    assert [j["status"] for j in sorted(doc["jobs"], key=lambda j: j["job"])] == ["finished", "failed"]


def test_mazedsl_run_finds_user_config_modules(tmp_path):
    (tmp_path / "myconf" / "algorithm").mkdir(parents=True)
    (tmp_path / "myconf" / "algorithm" / "fast_ppo.yaml").write_text(
        "_target_: mazedsl.rl.algos.ppo.PPO\nlr: 0.005\nn_steps: 16\n")
    env = {**os.environ, "MAZEDSL_CONFIG_PATH": str(tmp_path / "myconf")}
    proc = subprocess.run([str(BIN / "mazedsl-run"), "-cn", "conf_train", "algorithm=fast_ppo", "--cfg", "job"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load(proc.stdout)
    assert cfg["algorithm"]["lr"] == 0.005 and cfg["algorithm"]["n_steps"] == 16


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None,
                    reason="the 'tune' extra (hydra-optuna-sweeper) is not installed")
def test_optuna_sweep_uses_final_eval_as_objective(tmp_path):
    proc = hydra_run("--config-dir", str(ROOT / "experiments"), "-cn", "optuna_cartpole", "-m",
                     "hydra.sweeper.n_trials=2", "total_steps=512", "eval_every_steps=256",
                     "eval_episodes=2", "runner.n_envs=2", "algorithm.batch_size=64", cwd=tmp_path)
    sweep = json.loads(next(tmp_path.glob("outputs/optuna_cartpole/*/sweep.json")).read_text())
    finals = [j["final_eval"] for j in sweep["jobs"]]
    assert len(finals) == 2 and all(isinstance(f, float) for f in finals)
    assert f"Best value: {max(finals)}" in proc.stdout + proc.stderr


def test_mazedsl_run_checks_a_config_of_your_own_and_leaves_hydra_only_values_to_hydra(tmp_path):
    """A config of your own (-cd DIR -cn NAME) extending conf_train: a typo is mazedsl's one line
    before Hydra runs (it was Hydra's report), while a ${hydra:...} value, which only Hydra's
    job can resolve, still trains (the check steps aside for it)."""
    conf = tmp_path / "my_conf"
    conf.mkdir()
    head = "defaults:\n  - conf_train\n  - _self_\n"
    (conf / "mine.yaml").write_text(head + "output_dir: mine_out\n")
    (conf / "mine_in_cwd.yaml").write_text(head + "output_dir: ${hydra:runtime.cwd}/mine_out\n")
    typo = hydra_run("-cd", str(conf), "-cn", "mine", "total_step=256", cwd=tmp_path, check=False)
    assert typo.returncode == 2 and typo.stderr.startswith("error: total_step: unknown key; did you mean")
    assert typo.stderr.count("\n") == 1 and not (tmp_path / "mine_out").exists()
    hydra_run("-cd", str(conf), "-cn", "mine_in_cwd", *HYDRA_TINY, cwd=tmp_path)
    (run_json,) = (tmp_path / "mine_out").glob("*/*/run.json")
    assert json.loads(run_json.read_text())["status"] == "finished"


def test_mazedsl_run_config_path_of_your_own_extends_the_built_in_configs(tmp_path):
    """``-cp DIR`` (another primary config folder, relative to the working directory) with a
    config extending conf_train: it trains with the built-in groups (Hydra had lost them:
    "Could not load 'conf_train'", and read a relative DIR inside mazedsl's package), and a
    typo or a missing folder is one line with exit 2, before Hydra runs."""
    conf = tmp_path / "my_conf"
    conf.mkdir()
    (conf / "mine.yaml").write_text("defaults:\n  - conf_train\n  - _self_\n\noutput_dir: mine_out\n")
    proc = hydra_run("-cp", "my_conf", "-cn", "mine", "algorithm=a2c", *HYDRA_TINY, cwd=tmp_path)
    (run_json,) = (tmp_path / "mine_out").glob("*/*/run.json")
    assert json.loads(run_json.read_text())["status"] == "finished"
    cfg = yaml.safe_load((run_json.parent / "config.yaml").read_text())
    assert cfg["algorithm"]["_target_"].endswith("A2C") and "run directory" in proc.stdout
    for args, expected in [
        (["-cp", "my_conf", "-cn", "mine", "total_step=256"], "error: total_step: unknown key; did you mean"),
        ([f"--config-path={conf}", "-cn", "mine", "algorithm=nosuch"], "error: algorithm: unknown config module 'nosuch'"),
        (["-cp", "nosuch", "-cn", "mine"], "error: --config-path: "),
    ]:
        bad = hydra_run(*args, cwd=tmp_path, check=False)
        assert bad.returncode == 2 and bad.stderr.startswith(expected), (args, bad.stderr)
        assert bad.stderr.count("\n") == 1
    assert len(list((tmp_path / "mine_out").glob("*/*/run.json"))) == 1


def test_mazedsl_run_shell_completion_info_and_grammar(tmp_path):
    assert "hydra_bash_completion" in hydra_run("-sc", "install=bash", cwd=tmp_path).stdout
    assert "Defaults List" in hydra_run("--info", "defaults", cwd=tmp_path).stdout
    out = hydra_run("-cn", "conf_train", "+env.kwargs.sutton_barto_reward=true", "~wrappers", *HYDRA_TINY,
                    cwd=tmp_path).stdout
    run_dir = Path(out.split("run directory: ")[1].split()[0])
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["env"]["kwargs"] == {"sutton_barto_reward": True} and cfg["wrappers"] == []
    bad = hydra_run("-cn", "conf_train", "algorithm.lr=range(1,3)", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "is a sweep" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("args", [
    ["diff", CARTPOLE, str(ROOT / "experiments" / "cartpole_a2c.py")],  # a rich table
    ["show", CARTPOLE],  # plain text
    ["runs"],  # a rich table of the trained run
])
def test_output_to_a_reader_that_went_away_ends_with_141_and_nothing_on_stderr(args, trained_run):
    """`mazedsl ... | head` (the README's exit statuses): 141, quietly, for a table as for
    text. rich's own handler of a closed pipe exited 1, which the README calls a bug."""
    cwd, _, _ = trained_run
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        proc = subprocess.run([str(BIN / "mazedsl"), *args], cwd=cwd, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")


@pytest.mark.parametrize("lines_read", [1, 2])
def test_training_whose_reader_went_away_stops_as_interrupted_with_141(tmp_path, lines_read):
    """`mazedsl train ... 2>&1 | head -N`: the run stops as on Ctrl-C (interrupted, not failed)
    and the command ends quietly with 141. After the run directory's line the next write is
    the budget's note (a plain print: the run stops before training); after the note it is
    the progress bar, which asks for a stop after the current update (checkpointed: resumable).
    rich's own handler of the closed pipe failed the run with exit 1."""
    proc = subprocess.Popen([str(BIN / "mazedsl"), "train", CARTPOLE, "total_steps=1000000"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    lines = [proc.stdout.readline() for _ in range(lines_read)]
    proc.stdout.close()  # the reader goes away
    assert proc.wait(timeout=120) == 141
    assert lines[0].startswith("run directory: ")
    assert lines_read == 1 or lines[1].startswith("note: training runs to 1,000,192 steps")
    run_dir = tmp_path / lines[0].split("run directory: ", 1)[1].strip()
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["error"]) == ("interrupted", None)
    if lines_read == 2:
        assert 0 < info["steps"] < 1_000_000 and (run_dir / "checkpoints" / "last.pt").is_file()
