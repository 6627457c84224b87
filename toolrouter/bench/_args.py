"""What the suites' parsers share: option types, and the error a bad option value raises."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from toolrouter._checks import check_real

__all__ = [
    "UsageError", "count", "count_list", "given_options", "group_destinations", "int_list", "name_list", "named_by",
    "output_file", "output_folder", "parse_with_quick", "positive", "real", "refuse_unchosen_sections", "refuse_unread",
    "write_json",
]


class UsageError(ValueError):
    """An option value a suite cannot run with; ``toolrouter bench`` reports it as one line naming
    the option and the value (exit status 2), as argparse does its own errors."""


def count(text: str) -> int:
    """An argparse type for seeds, counts and sizes: a whole number >= 0, refused in the wording of
    ``toolrouter._checks.check_count`` (argparse puts the option's name in front)."""
    return _whole(text, 0)


def positive(text: str) -> int:
    """An argparse type for what must be at least one (torch threads, seeds to average, tasks to
    run): 0 failed inside torch or a median of nothing, or was taken for the default."""
    return _whole(text, 1)


def _whole(text: str, low: int) -> int:
    """``text`` as a whole number >= ``low``; anything else refused naming that bound (``-1`` for a
    positive option was said to need an integer >= 0, which 0 is not enough for either)."""
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
    return value


@contextlib.contextmanager
def named_by(option: str) -> Iterator[None]:
    """Around a loader reading the path ``option`` gives: a path it does not find is named by the
    option the user typed, not by the loader's argument (``path: no MetaTool folder at ...`` named
    an option no suite has).

    Example:
        >>> with named_by("--data"):
        ...     raise FileNotFoundError("path: no MetaTool folder at 'none/metatool'")
        Traceback (most recent call last):
        ...
        FileNotFoundError: --data: no MetaTool folder at 'none/metatool'
    """
    try:
        yield
    except FileNotFoundError as exc:
        message = str(exc)
        if type(exc) is not FileNotFoundError or not message.startswith("path: "):
            raise
        raise FileNotFoundError(f"{option}: {message.removeprefix('path: ')}") from None


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type for minutes, rates and weights: a finite number within ``low`` and ``high``
    (``low`` excluded with ``low_open``), refused in the wording of ``toolrouter._checks.check_real``
    (argparse puts the option's name in front). NaN and the infinities are refused: a NaN passed
    every comparison the suites made and ran with it (``min(nan, 0.05)`` is NaN).

    Example:
        >>> real(0, low_open=True)("0")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: expected a finite number > 0, got '0'
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        try:
            return check_real("", value, low=low, high=high, low_open=low_open, quote=lambda _: repr(text))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None

    return parse


def _writable(folder: Path, text: str) -> None:
    """Refuse ``text`` unless ``folder``, which exists, takes a new entry now: a folder on a
    read-only or virtual file system (``/proc``) failed only when the figures were saved, after
    the run. Tried by making and removing a folder, which answers for root too."""
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{str(folder)!r} is a file, not a folder to write in, got {text!r}")
    try:
        os.rmdir(tempfile.mkdtemp(dir=folder))
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write in {str(folder)!r} ({exc.strerror or exc}), got {text!r}") from None


def output_file(text: str) -> str:
    """An argparse type for the file a suite writes its figures to when it ends (``--json``): a
    name in a folder that exists and can be written in, not a folder, checked before the run, so
    that a typo does not cost the run's results after its minutes or hours of work."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"expected a file name, got the folder {text!r}")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no folder {str(path.parent)!r} to write {path.name!r} in, got {text!r}")
    _writable(path.parent, text)
    return text


def write_json(path: str | os.PathLike[str], figures: object) -> None:
    """Write a suite's ``figures`` to ``path`` (its ``--json``) as strict JSON, moved into place
    whole: a NaN or an infinity (a measure a run could not take: continual's forgetting) is written ``null``
    (``json.dump`` wrote ``NaN``, which JSON parsers other than Python's refuse), and a Ctrl-C or
    a full disk leaves the file as it was, not half written.

    Example:
        >>> write_json("figures.json", {"forgetting": float("nan"), "runs": [1.5, float("inf")]})
        >>> json.loads(Path("figures.json").read_text())
        {'forgetting': None, 'runs': [1.5, None]}
    """
    from toolrouter.serialization import write_atomically

    def strict(value: object) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Mapping):
            return {key: strict(v) for key, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [strict(v) for v in value]
        return value

    write_atomically(path, json.dumps(strict(figures), indent=1, allow_nan=False).encode("utf-8"))


def output_folder(text: str) -> Path:
    """An argparse type for the folder a suite writes its figures into (made when they are saved):
    a path that is a file, or one that cannot be made or written in, is refused before the run, not
    when the first figure is saved after it."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"expected a folder, got the file {text!r}")
    absolute = path.absolute()
    _writable(next(p for p in (absolute, *absolute.parents) if p.exists()), text)  # the folder, or where it is made
    return path


def int_list(option: str, text: str, expected: str) -> list[int]:
    """The whole numbers of a comma-separated option value, in its order; a part that is not one
    raises ``UsageError``: "``option``: expected ``expected``, got ``text``"."""
    try:
        return [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{option}: expected {expected}, got {text!r}") from None


def count_list(option: str, text: str, low: int = 1) -> list[int]:
    """The whole numbers >= ``low`` of a comma-separated option value (shots, ways), at least one;
    anything else raises ``UsageError`` naming ``option`` and the value."""
    expected = f"comma-separated integers >= {low}"
    values = int_list(option, text, expected)
    if not values or min(values) < low:
        raise UsageError(f"{option}: expected {expected}, got {text!r}")
    return values


def name_list(option: str, text: str, known: Sequence[str]) -> list[str]:
    """The names of a comma-separated option value (sections, methods), in its order: at least
    one, each from ``known`` and given once (a repeat ran the same work twice), else a
    ``UsageError`` naming ``option``."""
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UsageError(f"{option}: {f'unknown {unknown!r}' if unknown else 'none given'}; choose from {list(known)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"{option}: {repeated!r} given more than once")
    return names


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options that ``argv`` gives (``--seeds 3`` gives ``seeds``), whatever
    their values: an option given with its default value is given all the same."""
    actions = parser._actions  # argparse's own list of every option, groups included
    defaults = [action.default for action in actions]
    try:
        for action in actions:
            action.default = argparse.SUPPRESS  # so that only what argv sets reaches the namespace
        given, _ = parser.parse_known_args(list(argv))
    finally:
        for action, default in zip(actions, defaults):
            action.default = default
    return set(vars(given))


def refuse_unread(
    parser: argparse.ArgumentParser, argv: Sequence[str], left_out: Iterable[tuple[str, Iterable[str]]]
) -> None:
    """Refuse the options of what a run leaves out: for each ``(what, destinations)`` of
    ``left_out``, those of the options ``destinations`` names that ``argv`` gives raise
    ``UsageError`` "--a, --b: only for ``what``" (ignored, they made a run other than the one asked
    for without a word: a ``--json`` never written, a ``--data`` never read).

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument("--json")
        >>> refuse_unread(parser, ["--json", "out.json"], [("the tabular part, which --no-tabular skips", ["json"])])
        Traceback (most recent call last):
        ...
        toolrouter.bench._args.UsageError: --json: only for the tabular part, which --no-tabular skips
    """
    given = given_options(parser, argv)
    names = {action.dest: max(action.option_strings, key=len) for action in parser._actions if action.option_strings}
    for what, destinations in left_out:
        ignored = [names[dest] for dest in destinations if dest in given]
        if ignored:
            raise UsageError(f"{', '.join(ignored)}: only for {what}")


def group_destinations(parser: argparse.ArgumentParser, title: str) -> list[str]:
    """The destinations of the options in ``parser``'s argument group titled ``title`` (a suite's
    section keeps its options in a group of its name)."""
    group = next(g for g in parser._action_groups if g.title == title)
    return [action.dest for action in group._group_actions]


def refuse_unchosen_sections(
    parser: argparse.ArgumentParser, argv: Sequence[str], sections: Sequence[str], chosen: Sequence[str],
    data: Sequence[str] = (),
) -> None:
    """``refuse_unread`` for a suite whose sections keep their options in a group of their name:
    the options of each of ``sections`` that ``--sections`` (``chosen``) leaves out, except the
    destinations ``data`` (where the data lies, which a script may give every run)."""
    titles = {group.title for group in parser._action_groups}
    left_out = [
        (f"section {name}, which --sections leaves out", [d for d in group_destinations(parser, name) if d not in data])
        for name in sections if name not in chosen and name in titles
    ]
    refuse_unread(parser, argv, left_out)


def parse_with_quick(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, presets: Mapping[str, object]
) -> argparse.Namespace:
    """``parser.parse_args(argv)``; with ``--quick``, each option of ``presets`` (destination ->
    toy value) that ``argv`` does not give takes its toy value. An option the user gives wins over
    ``--quick``: ``--quick --seeds 3`` runs toy sizes with 3 seeds.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument("--quick", action="store_true")
        >>> _ = parser.add_argument("--seeds", type=int, default=20)
        >>> _ = parser.add_argument("--steps", type=int, default=500)
        >>> args = parse_with_quick(parser, ["--quick", "--seeds", "3"], {"seeds": 1, "steps": 10})
        >>> args.seeds, args.steps
        (3, 10)
    """
    unknown = sorted(set(presets) - {action.dest for action in parser._actions})
    if unknown:  # a suite's own slip: its preset would set nothing that the suite reads
        raise ValueError(f"presets: no option has the destination {unknown!r}")
    args = parser.parse_args(argv)
    if args.quick:
        given = given_options(parser, sys.argv[1:] if argv is None else argv)
        for dest, value in presets.items():
            if dest not in given:
                setattr(args, dest, value)
    return args
