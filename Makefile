# A fresh machine needs only `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup bench clean

# This machine sets PYTHONDONTWRITEBYTECODE=1: Python would compile every module it imports
# again in every process. Under make, Python caches them (in __pycache__ folders, which git
# ignores), so the test suite's hundred-odd processes compile each module once, when first
# imported. pip's own byte-compiling of all it installs (16,000 files, about 50 s here) is
# skipped; instead set-up imports every module of mazedsl and its TUI once, which compiles
# what the product loads, so the commands also start fast when run outside make (Ray aside:
# importing it takes 5 s, and an RLlib run spends tens of seconds starting Ray anyway).
# A current pip resolves the dev extra's 140 packages in half the time of the venv's own
# (pip 23.2: 83 s to install them here, pip 26: 37 s).
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --quiet --no-compile torch==2.13.0
	$(PY) -m pip install --quiet --quiet --upgrade pip || echo "note: pip not upgraded; the set-up goes on, slower"
	$(PY) -m pip install --quiet --quiet --no-compile -e '.[dev]'
	$(PY) -c "import importlib, pkgutil, mazedsl, mazedsl_tui; [importlib.import_module(m.name) \
	  for p in (mazedsl, mazedsl_tui) for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.') \
	  if not m.name.endswith('__main__') and not m.name.startswith('mazedsl.rllib')]"
	touch $(STAMP)

setup: $(STAMP)

## Train and evaluate the default CartPole experiment, with progress.
run: $(STAMP)
	$(VENV)/bin/mazedsl train experiments/cartpole_ppo.py
	$(VENV)/bin/mazedsl eval latest --episodes 10

## The whole test suite. Three workers on two cores: about a fifth of the tests' time is spent
## waiting (on training subprocesses, Ray, the TUI's polling), which a third worker fills
## (485 s against 525-547 s with two, in place; where the CPU is the limit it gains little:
## fresh clones took 516-574 s with three, 525-547 s with two, as the host's speed varied).
test: $(STAMP)
	$(PY) -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder

## Speed and learning benchmarks (about 60 minutes, learning.py most of it; figures in the README).
## gpu.py prints one line and measures nothing without CUDA.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/gemm.py
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/limits.py --profile ppo-128-256x256,ppo-8-64x64,a2c-8-64x64
	$(PY) benchmarks/backends.py
	$(PY) benchmarks/a2c_reuse.py
	$(PY) benchmarks/cnn_layout.py
	$(PY) benchmarks/vector_envs.py
	$(PY) benchmarks/gpu.py
	$(PY) benchmarks/time_to_solve.py
	$(PY) benchmarks/time_to_solve.py --eval-envs 10 --json benchmarks/results/time_to_solve-10envs.json
	$(PY) benchmarks/overheads.py
	$(PY) benchmarks/vs_sb3.py --algos dqn --seeds 3 --budget 10000 --eval-every 100000 --json benchmarks/results/vs_sb3-dqn.json
	$(PY) benchmarks/vs_sb3.py --algos sac --seeds 5 --budget 3000 --eval-every 100000 --json benchmarks/results/vs_sb3-sac.json
	$(PY) benchmarks/learning.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
