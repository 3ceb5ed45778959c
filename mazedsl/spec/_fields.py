"""Field helpers for declarations: a default, a type check, a range and a docstring.

``param(default, "doc", check)`` is ``attrs.field`` with the docstring kept in
``metadata["doc"]`` (it becomes help text) and a validator that raises
:class:`~mazedsl.errors.ConfigError` naming the field.
"""

from __future__ import annotations

import copy
import math
import numbers
import os
from typing import Any, Callable, Sequence

import attrs

from mazedsl.errors import ConfigError

Check = Callable[[Any], "str | None"]


def param(default: Any, doc: str, *checks: Check, converter: Callable[[Any], Any] | None = None) -> Any:
    """An attrs field with a default, a one-line ``doc`` and value ``checks``.

    Each check returns ``None`` when the value is fine, else what was expected
    (``"must be > 0"``). Mutable defaults (lists, dicts) are copied per instance.
    """

    def validate(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        for check in checks:
            problem = check(value)
            if problem:
                if _is_numpy(value) and value.ndim:  # an array where one value is expected
                    raise ConfigError(f"{problem}, got a numpy array of shape "
                                      f"{tuple(value.shape)}: {value!r}", attribute.name)
                raise ConfigError(f"{problem}, got {value!r}", attribute.name)

    wants_int = any(getattr(check, "wants_int", False) for check in checks)
    # checks that also read values of the wrong type, to say more than the type would
    raw = [check for check in checks if getattr(check, "explains_raw", False)]
    metadata = {"doc": doc, "raw_checks": raw} if raw else {"doc": doc}
    if isinstance(default, (list, dict)):
        frozen = copy.deepcopy(default)
        convert = (lambda v: integral(plain_container(v))) if wants_int else plain_container
        if converter is not None:
            convert = _chained(convert, converter)
        return attrs.field(factory=lambda: copy.deepcopy(frozen), validator=validate,
                           converter=convert, metadata=metadata)
    convert = _chained(numpy_scalar, integral) if wants_int else numpy_scalar
    if converter is not None:
        convert = _chained(convert, converter)
    return attrs.field(default=default, validator=validate, metadata=metadata,
                       converter=convert)


def _chained(first: Callable[[Any], Any], then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: then(first(value))


def one_as_list(value: Any) -> Any:
    """A single string or path (``os.PathLike``, such as ``RunContext.run_dir``) as a list of
    one, where a list of paths or names is expected, and path objects in a list as strings;
    anything else unchanged."""
    if isinstance(value, (str, os.PathLike)):
        value = [value]
    if isinstance(value, (list, tuple)):
        return [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
    return value


EXACT_FLOAT_INT = 2**53
"""The largest float that holds every integer up to it exactly; ``1e30`` is no integer."""


def integral(value: Any) -> Any:
    """An integral float (``1e5``, ``64.0``) as an int, also inside a list; anything else
    unchanged (so the int check still refuses ``0.5``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= EXACT_FLOAT_INT:
        return int(value)
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def _int_check(check: Check) -> Check:
    """Mark ``check`` as one of an int field: :func:`param` then accepts integral floats."""
    check.wants_int = True  # type: ignore[attr-defined]
    return check


def plain_container(value: Any) -> Any:
    """OmegaConf containers (e.g. from ``hydra.utils.instantiate``), tuples and numpy arrays
    as plain lists and dicts, numpy scalars in them as Python's; anything else unchanged."""
    if type(value).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, tuple):
        return from_numpy(list(value))
    if isinstance(value, (list, dict)) or _is_numpy(value):
        return from_numpy(value)
    return value


def _is_numpy(value: Any) -> bool:
    """True for a numpy scalar or array (numpy itself is not imported)."""
    return type(value).__module__ == "numpy" and hasattr(value, "dtype")


def _numpy_item(value: Any) -> Any:
    """A numpy scalar (or 0-d array) of numbers, booleans or text as Python's own; a float32
    as the shortest decimal that reads back as it (``np.float32(1e-3)`` -> ``0.001``)."""
    kind, size = value.dtype.kind, value.dtype.itemsize
    if kind == "f" and size < 8:
        return float(str(value[()]))
    return value.item() if kind in "biufU" else value


def numpy_scalar(value: Any) -> Any:
    """A numpy scalar or 0-d array as the Python number, bool or str it holds; anything else
    (an array of several values, which a scalar field then refuses) unchanged."""
    if _is_numpy(value) and value.ndim == 0:
        return _numpy_item(value)
    return value


def from_numpy(value: Any) -> Any:
    """Numpy scalars as Python's and numpy arrays as (nested) lists, also inside lists,
    tuples and dicts; anything else unchanged. Configs hold plain values only."""
    if _is_numpy(value):
        return _numpy_item(value) if value.ndim == 0 else [from_numpy(v) for v in value]
    if isinstance(value, list):
        return [from_numpy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(from_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: from_numpy(v) for k, v in value.items()}
    return value


def component(factory: Callable[[], Any], doc: str,
              types: tuple[type, ...] | Callable[[], tuple[type, ...]] = ()) -> Any:
    """A nested declaration field (built fresh per instance), checked to be one of ``types``
    (a tuple, or a function giving it: e.g. the registered algorithm declarations)."""
    kinds = types or (factory,)

    def validate(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        allowed = kinds() if callable(kinds) and not isinstance(kinds, tuple) else kinds
        if not isinstance(value, allowed):
            names = " or ".join(t.__name__ for t in allowed)
            raise ConfigError(f"must be a {names} declaration, got {value!r}", attribute.name)

    return attrs.field(factory=factory, validator=validate, metadata={"doc": doc})


def list_of(types: tuple[type, ...], doc: str) -> Any:
    """A list field of declarations of ``types`` (defaults to empty)."""

    def validate(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not isinstance(value, list):
            raise ConfigError(f"must be a list, got {value!r}", attribute.name)
        for i, item in enumerate(value):
            if not isinstance(item, types):
                names = ", ".join(t.__name__ for t in types)
                raise ConfigError(f"must be one of {names}, got {item!r}", f"{attribute.name}[{i}]")

    return attrs.field(factory=list, validator=validate, converter=plain_list, metadata={"doc": doc})


def plain_list(value: Any) -> Any:
    """An OmegaConf ListConfig or tuple of declarations as a plain list (items kept)."""
    if isinstance(value, tuple) or type(value).__module__.startswith("omegaconf"):
        return list(value)
    return value


# --- checks ------------------------------------------------------------------

@_int_check
def is_int(value: Any) -> str | None:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return None if ok else "must be an integer"


def is_float(value: Any) -> str | None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return "must be a number"
    return None if math.isfinite(value) else "must be a finite number"


def is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def is_str(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def optional(check: Check) -> Check:
    """``check``, or ``None`` allowed."""
    out: Check = lambda v: None if v is None else check(v)  # noqa: E731
    return _int_check(out) if getattr(check, "wants_int", False) else out


def gt(bound: float) -> Check:
    return lambda v: is_float(v) or (None if v > bound else f"must be > {bound}")


def ge(bound: float) -> Check:
    return lambda v: is_float(v) or (None if v >= bound else f"must be >= {bound}")


def le(bound: float) -> Check:
    return lambda v: is_float(v) or (None if v <= bound else f"must be <= {bound}")


def one_of(*choices: Any) -> Check:
    shown = ", ".join(repr(c) for c in choices)
    return lambda v: None if v in choices else f"must be one of {shown}"


def int_list(min_len: int = 0, positive: bool = True) -> Check:
    """A list of (positive) integers of at least ``min_len`` items."""

    def check(v: Any) -> str | None:
        what = "a list of positive integers" if positive else "a list of integers"
        if not isinstance(v, (list, tuple)) or len(v) < min_len:
            return f"must be {what}" + (f" (at least {min_len})" if min_len else "")
        if any(is_int(x) or (positive and x <= 0) for x in v):
            return f"must be {what}"
        return None

    return _int_check(check)


def str_dict(v: Any) -> str | None:
    ok = isinstance(v, dict) and all(isinstance(k, str) for k in v)
    return None if ok else "must be a mapping with string keys"


def same_length(*fields: str) -> Callable[[Any], None]:
    """A post-init check that several list fields have equal lengths."""

    def check(inst: Any) -> None:
        lengths = {f: len(getattr(inst, f)) for f in fields}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{k}={n}" for k, n in lengths.items())
            raise ConfigError(f"must have equal lengths, got {shown}", fields[0])

    return check


def all_checks(values: Sequence[Check]) -> Check:
    def check(v: Any) -> str | None:
        for c in values:
            problem = c(v)
            if problem:
                return problem
        return None

    return _int_check(check) if any(getattr(c, "wants_int", False) for c in values) else check
