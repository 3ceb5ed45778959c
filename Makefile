# A fresh machine needs only `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup bytecode bench clean

# pip byte-compiles what it installs on one core; compileall does it on all of them (set-up
# about 110 s instead of 140 s here). Compiling now matters: where PYTHONDONTWRITEBYTECODE is
# set, Python never writes the cache itself. As under pip, the few files written for newer
# Pythons (torch's py312 test helpers) do not compile; that is ignored.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --no-compile torch==2.13.0
	$(PY) -m pip install --quiet --no-compile -e '.[dev]'
	$(PY) -m compileall -q -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" > /dev/null || true
	touch $(STAMP)

setup: $(STAMP)

# Byte-compile our own packages: where PYTHONDONTWRITEBYTECODE is set (as on this machine)
# Python never caches them itself, and every CLI process would compile them again (0.5 s).
bytecode: $(STAMP)
	$(PY) -m compileall -q mazedsl tui

## Train and evaluate the default CartPole experiment, with progress.
run: bytecode
	$(VENV)/bin/mazedsl train experiments/cartpole_ppo.py
	$(VENV)/bin/mazedsl eval latest --episodes 10

## The whole test suite.
test: bytecode
	$(PY) -m pytest -q -n 2 --dist loadfile

## Speed and learning benchmarks (about 55 minutes, learning.py most of it; figures in the README).
## gpu.py prints one line and measures nothing without CUDA.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/limits.py
	$(PY) benchmarks/backends.py
	$(PY) benchmarks/gpu.py
	$(PY) benchmarks/time_to_solve.py
	$(PY) benchmarks/overheads.py
	$(PY) benchmarks/vs_sb3.py --algos dqn --seeds 3 --budget 10000 --eval-every 100000
	$(PY) benchmarks/vs_sb3.py --algos sac --seeds 5 --budget 3000 --eval-every 100000
	$(PY) benchmarks/learning.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
