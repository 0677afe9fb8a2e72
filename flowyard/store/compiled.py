"""A Core statement compiled once for one dialect: its SQL, and what turns values into driver
parameters and driver rows into named tuples (used by ``flowyard.store.db.Statement``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa


class Compiled:
    """A statement's SQL for one dialect, with what turns values into driver parameters and
    driver rows into named tuples (SQLAlchemy's own type processors, so values match)."""

    __slots__ = ("make_args", "make_row", "sql")

    def __init__(self, statement: sa.Executable, row_class: type | None, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string or compiled.escaped_bind_names:
            raise ValueError(f"cannot prebuild {compiled.string!r}: use plain bindparam names")
        self.sql = compiled.string
        binds = compiled.binds
        if compiled.positional:
            names = list(compiled.positiontup or ())
        else:
            names = list(dict.fromkeys(compiled.bind_names.values()))
        # Literals written into the statement (rather than sa.bindparam) keep their value.
        fixed = {n: b.effective_value for n, b in binds.items() if not b.required}
        converters = [
            (i, proc)
            for i, name in enumerate(names)
            if (proc := binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        self.make_args = _args_maker(names, fixed, converters, compiled.positional)
        self.make_row = (
            _row_maker(row_class, statement.exported_columns, dialect) if row_class else None
        )

    def rows(self, raws: list[Any]) -> list[Any]:
        make_row = self.make_row
        assert make_row is not None, "the statement returns no rows"
        return [make_row(raw) for raw in raws]


def _args_maker(
    names: list[str],
    fixed: dict[str, Any],
    converters: list[tuple[int, Callable[[Any], Any]]],
    positional: bool,
) -> Callable[[Mapping[str, Any]], Sequence[Any] | dict[str, Any]]:
    def make_args(params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if fixed:
            params = {**fixed, **params}
        values = [params[name] for name in names]
        for i, convert in converters:
            values[i] = convert(values[i])
        return values if positional else dict(zip(names, values, strict=True))

    return make_args


def _row_maker(row_class: type, columns: Any, dialect: Any) -> Callable[[Sequence[Any]], Any]:
    converters = [
        (i, proc)
        for i, column in enumerate(columns)
        if (proc := column.type.dialect_impl(dialect).result_processor(dialect, None))
    ]
    new = tuple.__new__
    if not converters:
        return lambda raw: new(row_class, raw)

    def make_row(raw: Sequence[Any]) -> Any:
        values = list(raw)
        for i, convert in converters:
            values[i] = convert(values[i])
        return new(row_class, values)

    return make_row
