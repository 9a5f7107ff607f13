"""The release filter's command-line options (`--types`, `--appears-on`, `--exclude`, `--include`, `--block`), and the
filter a run uses: config.toml's [filters], changed by these options for this run only."""

from __future__ import annotations

import argparse
from dataclasses import replace

from esh_tui.tracker.release_filter import (RELEASE_TYPES, VERSIONS, FilterError, ReleaseFilter, compile_pattern,
                                            parse_names)

_VERSION_NAMES = ", ".join(VERSIONS)


def _names_of(known: tuple[str, ...], what: str):
    def parse(value: str) -> frozenset[str]:
        try:
            return parse_names([value], known, what)
        except FilterError as exc:
            raise argparse.ArgumentTypeError(f"{exc.what} {exc.why}") from None
    return parse


def _pattern(value: str) -> str:
    try:
        compile_pattern(value)
    except FilterError as exc:
        raise argparse.ArgumentTypeError(f"{exc.what} {exc.why}") from None
    return value


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("release filters (for this run; [filters] in config.toml for every run)")
    group.add_argument("--types", type=_names_of(RELEASE_TYPES, "release type"), metavar="TYPES",
                       help=f"only these release types, comma-separated: {', '.join(RELEASE_TYPES)} "
                            "(an EP: a single of 4 tracks or more)")
    group.add_argument("--appears-on", action=argparse.BooleanOptionalAction, default=None,
                       help="also features on other artists' releases (listing them costs API calls)")
    group.add_argument("--exclude", action="append", default=[], type=_names_of(tuple(VERSIONS), "version"),
                       metavar="VERSIONS", help=f"hide these versions, comma-separated: {_VERSION_NAMES}")
    group.add_argument("--include", action="append", default=[], type=_names_of(tuple(VERSIONS), "version"),
                       metavar="VERSIONS", help="show these versions though config.toml or --exclude hides them")
    group.add_argument("--block", action="append", default=[], type=_pattern, metavar="REGEX",
                       help="hide releases whose track or album title matches (any case); repeat for more")


def release_filter(args: argparse.Namespace, configured: ReleaseFilter) -> ReleaseFilter:
    """config.toml's filter with this command's options applied (an option never given changes nothing)."""
    exclude = set(configured.exclude).union(*getattr(args, "exclude", [])) - set().union(*getattr(args, "include", []))
    types = getattr(args, "types", None)
    appears_on = getattr(args, "appears_on", None)
    return replace(configured, types=configured.types if types is None else types,
                   appears_on=configured.appears_on if appears_on is None else appears_on,
                   exclude=frozenset(exclude), block=(*configured.block, *getattr(args, "block", [])))
