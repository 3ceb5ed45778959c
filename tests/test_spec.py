"""Declarations: defaults construct; every check rejects a bad value naming the field.

The bad values are derived from each field's checks (the closures ``param`` builds), so
adding a checked field to a declaration adds its cases here automatically.
"""

from __future__ import annotations

from typing import Any, Iterator

import attrs
import pytest

from mazedsl import A2C, PPO, spec
from mazedsl.config.targets import DECLARATIONS as _ALL
from mazedsl.errors import ConfigError
from mazedsl.rl.registry import load_builtins

load_builtins()  # the algorithm packages register their declarations
#: Every declaration but TorchModel (it has no default: it names the user's class; tested below).
DECLARATIONS = [cls for cls in _ALL if cls is not spec.TorchModel]


def _cells(fn: Any) -> dict[str, Any]:
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))


def _checks(field: attrs.Attribute) -> list[Any]:
    """The check functions of a ``param`` field (unwrapping optional/all_checks)."""
    validator = field.validator
    if validator is None or getattr(validator, "__closure__", None) is None:
        return []
    out: list[Any] = []

    def expand(check: Any) -> None:
        kind = check.__qualname__.split(".")[0]
        cells = _cells(check) if check.__closure__ else {}
        if kind == "optional":
            expand(cells["check"])
        elif kind == "all_checks":
            for inner in cells["values"]:
                expand(inner)
        else:
            out.append(check)

    for check in _cells(validator).get("checks", ()):
        expand(check)
    return out


def _bad_values(cls: type, field: attrs.Attribute) -> Iterator[tuple[Any, str]]:
    """``(bad value, expected message start)`` for each check of ``field``."""
    numeric_int = field.type in (int, "int") or "int" in str(field.type) and "list" not in str(
        field.type)
    for check in _checks(field):
        kind = check.__qualname__.split(".")[0]
        cells = _cells(check) if check.__closure__ else {}
        if kind == "is_int":
            yield 1.5, "must be an integer"
            yield True, "must be an integer"
        elif kind == "is_float":
            yield "1.0", "must be a number"
            yield True, "must be a number"
        elif kind == "is_bool":
            yield "yes", "must be true or false"
        elif kind == "is_str":
            yield 3, "must be a string"
        elif kind == "str_dict":
            yield {1: "a"}, "must be a mapping with string keys"
        elif kind == "gt":
            bound = cells["bound"]
            yield (int(bound) if numeric_int else float(bound)), f"must be > {bound}"
        elif kind == "ge":
            bound = cells["bound"]
            yield (int(bound) - 1 if numeric_int else bound - 0.5), f"must be >= {bound}"
        elif kind == "le":
            bound = cells["bound"]
            yield bound + 1, f"must be <= {bound}"
        elif kind == "one_of":
            yield "no-such-choice", "must be one of"
        elif kind == "int_list":
            yield [1, 0], "must be a list of"
            yield [1.5], "must be a list of"
            if cells["min_len"]:
                yield [], "must be a list of"
        elif kind == "_name":
            yield "a b", "must be a non-empty name"
            yield "", "must be a non-empty name"
        elif kind == "RolloutConfig":  # the inline one-of lambdas of policy / checkpoint
            yield "no-such-choice", "must be one of"
        elif kind == "Experiment":  # allow_targets: a list of module names
            yield ["ok", ""], "must be a list of module names"
        elif kind == "is_device":
            yield "gpu", "must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        elif kind == "_is_activation":
            yield "sigmoidish", "must be one of 'tanh'"
        elif kind == "_target_path":
            yield "", "must be an import path"
        elif kind == "_grad_steps":  # DQN/SAC gradient_steps: positive or -1
            yield 0, "must be a positive integer or -1"
        elif kind == "str_list":  # BC episodes
            yield [""], "must be a list of non-empty strings"
        elif kind == "lt_one":  # BC validation_fraction
            yield 1.0, "must be < 1"
        elif kind == "_not_auto":  # SAC ent_coef, target_entropy: SB3's 'auto' spelling
            yield "auto", "must be a number or null (null"
        else:
            raise AssertionError(f"no bad value known for check {check.__qualname__} of "
                                 f"{cls.__name__}.{field.name}: add one here")


def _component_cases() -> Iterator[tuple[type, str, Any, str]]:
    for cls in DECLARATIONS:
        for field in attrs.fields(cls):
            cells = _cells(field.validator) if getattr(field.validator, "__closure__", None) else {}
            if ("types" in cells or "kinds" in cells) and "checks" not in cells:
                if field.type is list or "list" in str(field.type):
                    yield cls, field.name, [3], "must be one of"
                    yield cls, field.name, "x", "must be a list"
                else:
                    yield cls, field.name, 3, "must be a"


CASES = [(cls, field.name, bad, expected)
         for cls in DECLARATIONS for field in attrs.fields(cls)
         for bad, expected in _bad_values(cls, field)]


@pytest.mark.parametrize("cls", DECLARATIONS, ids=lambda c: c.__name__)
def test_defaults_construct_and_every_field_is_documented(cls: type) -> None:
    obj = cls()  # every default passes its own checks
    for field in attrs.fields(cls):
        assert field.metadata.get("doc", "").strip(), f"{cls.__name__}.{field.name} has no doc"
        default = field.default.factory() if isinstance(field.default, attrs.Factory) else field.default
        assert getattr(obj, field.name) == default


@pytest.mark.parametrize("cls, name, bad, expected", CASES,
                         ids=[f"{c.__name__}.{n}={b!r}" for c, n, b, _ in CASES])
def test_each_check_rejects_a_bad_value_naming_the_field(cls: type, name: str, bad: Any,
                                                         expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        cls(**{name: bad})
    assert info.value.path == name
    assert info.value.message.startswith(expected)
    assert f"got {bad!r}" in info.value.message


@pytest.mark.parametrize("cls, name, bad, expected", list(_component_cases()),
                         ids=[f"{c.__name__}.{n}={b!r}" for c, n, b, _ in _component_cases()])
def test_component_fields_reject_other_types(cls: type, name: str, bad: Any, expected: str
                                             ) -> None:
    with pytest.raises(ConfigError) as info:
        cls(**{name: bad})
    assert info.value.path.split("[")[0] == name
    assert info.value.message.startswith(expected)


def test_every_validated_field_has_cases() -> None:
    covered = {(c, n) for c, n, _b, _e in CASES} | {(c, n) for c, n, _b, _e in _component_cases()}
    validated = {(cls, f.name) for cls in DECLARATIONS for f in attrs.fields(cls)
                 if f.validator is not None}
    assert validated - covered == {(spec.RolloutConfig, "env")}  # attrs' own instance_of
    with pytest.raises(TypeError):
        spec.RolloutConfig(env=3)  # type: ignore[arg-type]


def test_numeric_bounds_are_exact() -> None:
    assert PPO(gamma=1.0, gae_lambda=0.0).gamma == 1.0
    with pytest.raises(ConfigError, match=r"^gamma: must be <= 1, got 1.01$"):
        PPO(gamma=1.01)
    with pytest.raises(ConfigError, match=r"^lr: must be > 0, got 0.0$"):
        PPO(lr=0.0)
    assert spec.Experiment(seed=0, eval_every_steps=0).eval_every_steps == 0


def test_pixel_obs_conv_lists_must_have_equal_lengths() -> None:
    with pytest.raises(ConfigError) as info:
        spec.PixelObs(channels=[16, 32])
    assert str(info.value) == "channels: must have equal lengths, got channels=2, kernel_sizes=3, strides=3"


def test_experiment_lists_wrapper_items_by_index() -> None:
    with pytest.raises(ConfigError) as info:
        spec.Experiment(wrappers=[spec.Grayscale(), PPO()])  # type: ignore[list-item]
    assert info.value.path == "wrappers[1]"


def test_mutable_defaults_are_per_instance() -> None:
    a, b = spec.VectorObs(), spec.VectorObs()
    a.hidden_units.append(3)
    assert b.hidden_units == [64, 64]
    assert spec.GymEnv().kwargs == {}


def test_declarations_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        PPO().lr = 1.0  # type: ignore[misc]


def test_torch_model_names_its_class_and_keeps_kwargs():
    import torch

    model = spec.TorchModel(torch.nn.Linear, in_features=3, non_lin=torch.nn.Tanh)
    assert model.target == "torch.nn.modules.linear.Linear"
    assert model.kwargs == {"in_features": 3, "non_lin": "torch.nn.Tanh"}
    assert spec.TorchModel("pkg.mod:Net").target == "pkg.mod.Net"
    with pytest.raises(ConfigError, match="target: must be an import path"):
        spec.TorchModel("")
