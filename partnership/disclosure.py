"""Statistical disclosure control: the one step that decides what a viewer
not cleared for case-level data may see.

Figures reach it as a **release**: the counts of one population split into
*atoms* (the finest groups any figure is built from: e.g. young people by
locality, month of 18th birthday and route), and the figures published from
them (`Count`: a sum of atoms; `Share`: one count over another, as a rounded
percentage; `Median` and `Rate`, which stand on a count of people). Every
surface (page, story, board pack, export) takes its numbers from a released
release, so a figure is hidden in one place exactly when it is hidden in all.

The rule follows DfE children-in-need statistics:
- primary: a published count from 1 to the threshold is hidden (`c`); 0 is shown;
- derived: a share whose numerator or denominator is 1 to the threshold, or
  rests on a hidden count, is hidden; so is a median or rate over a hidden or
  small number of people;
- secondary, checked by an **audit**: for each primarily hidden count, the
  range of values consistent with everything else published in the release
  (counts, shares with their rounding, the fact that a hidden count is at
  least 1 and a primarily hidden one at most the threshold) is worked out by
  integer programming. Where it is narrower than 1 to the threshold, a further
  figure is hidden (the smallest sibling count first, then a share, then a
  total), and the audit runs again, until nothing can be narrowed.

The attacker the audit assumes knows more than a reader can: which hidden
counts were hidden for being small. A release that holds against that
attacker holds against any reader. Releases are built over every view one
filter change away (all localities and each one, every period a board member
can choose) so that combining views gives nothing away either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import numbers
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import polars as pl

SUPPRESSED = "c"
DEFAULT_THRESHOLD = 5
# Candidates tried, in order, when looking for a complementary figure that
# widens a narrowed range; past them the first is taken and the search goes on.
TRIALS = 4
# Complementary figures tried for one small count before its table is withheld.
COMPLEMENTS = 6

Where = Mapping[str, object]  # dimension -> a value, or a list/set/tuple of values


# --- what a release publishes ------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """A count of the release's population: the atoms matching `where`.
    `published=False` makes a helper (the numerator of a share, say) that is
    never shown itself. `headline` marks totals and counts quoted in words,
    hidden only when no smaller figure will do."""

    key: str
    where: Where
    published: bool = True
    headline: bool = False
    # A part of a breakdown that is simply left out when small (a band of the
    # flow diagram): not shown as c but not listed at all, so a reader cannot
    # tell it from a 0 and a small total cannot be bounded below by it.
    unlisted_when_small: bool = False
    # A count any reader knows from elsewhere (case holders are the filled and agency
    # posts the establishment table lists, and their FTE is shown beside them): hiding it
    # would protect nothing, so it is always shown and the audit takes it as known.
    known: bool = False


@dataclass(frozen=True)
class Share:
    """100 * num / den, as a percentage rounded to `digits` (the most precise
    form in which it is shown anywhere)."""

    key: str
    num: str
    den: str
    digits: int = 1


@dataclass(frozen=True)
class Median:
    """A median over the people of count `n` (its value worked out elsewhere)."""

    key: str
    value: float | None
    n: str


@dataclass(frozen=True)
class Rate:
    """Events per person: `total` events over the people of count `den`."""

    key: str
    total: float
    den: str
    digits: int = 2


@dataclass(frozen=True)
class Derived:
    """A figure worked out from others (a ratio, an interval, a caseload):
    hidden whenever a figure it depends on is hidden or is a small count."""

    key: str
    value: float | str | None
    depends: tuple[str, ...]


Item = Count | Share | Median | Rate | Derived


@dataclass
class Release:
    """A population's atoms (dims + `n`) and the figures published from them."""

    name: str
    atoms: pl.DataFrame
    items: list[Item] = field(default_factory=list)
    # Tables as published: a total and the counts that make it up (a row and
    # its cells, the partnership and its localities). Secondary suppression
    # looks first along these lines, as tau-Argus does along a table's.
    lines: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # Pairs of counts a reader knows to be equal although the atoms do not say
    # so (the people into a stage of the flow and out of it, where atoms are
    # the bands between stages): the audit holds them equal.
    equal: list[tuple[str, str]] = field(default_factory=list)
    # The atoms are already every cell a reader cannot rule out (zeros
    # included; partnership/joint.py), so the audit takes them as they are
    # rather than as every combination of the values seen.
    explicit: bool = False
    # The young people behind an explicit release, by part (an `id` column and the
    # part's attributes): what the next board publication compares itself with.
    people: dict[str, pl.DataFrame] = field(default_factory=dict)

    def add(self, *items: Item) -> None:
        self.items.extend(items)

    def same(self, a: str, b: str) -> None:
        self.equal.append((a, b))

    def line(self, total: str, parts: Iterable[str]) -> None:
        self.lines.append((total, tuple(parts)))


# --- what comes out --------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    key: str
    low: float
    high: float


@dataclass
class Audit:
    """What the check found for one release at one level."""

    published: int = 0  # figures published (counts, shares, medians, rates)
    hidden: int = 0  # of which hidden
    primary: int = 0  # hidden for being 1 to the threshold (counts)
    recoverable: int = 0  # small hidden counts a reader can narrow past protection() (must be 0)
    intervals: list[Interval] = field(default_factory=list)
    withheld: int = 0  # counts left out altogether rather than shown as c

    def merge(self, other: Audit) -> Audit:
        return Audit(
            self.published + other.published,
            self.hidden + other.hidden,
            self.primary + other.primary,
            self.recoverable + other.recoverable,
            self.intervals + other.intervals,
            self.withheld + other.withheld,
        )

    def words(self) -> str:
        recoverable = "none recoverable" if not self.recoverable else f"{self.recoverable} recoverable"
        return f"{self.published:,} figures published, {self.hidden:,} hidden, {recoverable}"


Shown = int | float | str | None


@dataclass
class Released:
    """A release after disclosure: each figure's value, or SUPPRESSED."""

    name: str
    values: dict[str, Shown]
    hidden: set[str]
    audit: Audit
    suppressed: bool  # disclosure control applied (board level)
    threshold: int
    withheld: set[str] = field(default_factory=set)  # left out altogether (a table too small to break down)
    primary: set[str] = field(default_factory=set)  # hidden for being 1 to the threshold ("fewer than 6")
    # Kept from an earlier board publication (its change since is too small to show): when, in
    # words, and the date its figures were worked out to.
    kept: str = ""
    kept_as_of: dt.date | None = None
    # Why the release's figures are not shown or not new, in words, for the notes under them.
    note: str = ""

    def __getitem__(self, key: str) -> Shown:
        return self.values[key]

    def get(self, key: str, default: Shown = None) -> Shown:
        return self.values.get(key, default)

    def is_hidden(self, key: str) -> bool:
        return key in self.hidden


def merge(name: str, *parts: Released) -> Released:
    """Releases of one population published together. A figure hidden in any
    of them is hidden in all: hiding more never narrows a reader's range, so
    each part's audit still holds."""
    values: dict[str, Shown] = {}
    hidden: set[str] = set()
    withheld: set[str] = set()
    primary: set[str] = set()
    audit = Audit()
    for part in parts:
        for k, v in part.values.items():
            values.setdefault(k, v)
        hidden |= part.hidden
        withheld |= part.withheld
        primary |= part.primary
        audit = audit.merge(part.audit)
    for k in hidden:
        if k in values and k not in withheld and values[k] is not None:
            values[k] = SUPPRESSED
    for k in withheld:
        values[k] = None
    first = parts[0]
    return Released(name, values, hidden, audit, first.suppressed, first.threshold, withheld, primary)


@dataclass(frozen=True)
class Prior:
    """What a reader was shown of this release before (the last board
    publication) and how its people have changed since: a reader holds both
    publications, and takes a figure that did not move to be about the same
    young people.

    - `fixed`: shown before, about the same young people now: its value is
      known, so it stays shown (hiding it would protect nothing).
    - `sticky`: hidden before, about the same young people now: it stays
      hidden (the same people, the same treatment), as small if it was.
    - `exposed`: shown before, and the young people who entered it (or left
      it) since are 1 to the threshold with nobody moving the other way:
      its new value would give that small group away by difference, so it is
      hidden and protected like a small count, within the range a reader
      who knows the old value can allow (the old value plus 1 to the
      threshold, or minus)."""

    fixed: frozenset[str] = frozenset()
    sticky: frozenset[str] = frozenset()
    sticky_primary: frozenset[str] = frozenset()
    exposed: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    sticky_withheld: frozenset[str] = frozenset()  # left out before, about the same young people: left out again


def withhold_all(release: Release, threshold: int) -> Released:
    """Nothing of the release published, not even as c: for a population so
    small that no choice of hidden figures keeps every small count from being
    worked out (a year of a tiny partnership). Withheld figures give a reader
    nothing, not even the zeros."""
    published = [i for i in release.items if not (isinstance(i, Count) and not i.published)]
    keys = {i.key for i in published}
    counts = sum(1 for i in published if isinstance(i, Count))
    audit = Audit(published=len(published), hidden=len(published), withheld=counts)
    note = (
        "These figures are not shown at all: there are too few young people for any choice of hidden "
        "figures to keep a small count from being worked out."
    )
    return Released(release.name, dict.fromkeys(keys), set(keys), audit, True, threshold, set(keys), set(), note=note)


def protection(threshold: int) -> int:
    """How many whole numbers a small hidden count's range must hold: half the
    1-to-threshold range (3 of 1..5, 5 of 1..10), and never fewer than 2."""
    return max(2, (threshold + 1) // 2)


def narrowed(low: float, high: float, threshold: int) -> bool:
    """True when a reader can pin a hidden count to fewer values than protection() asks."""
    return high - low + 1 < protection(threshold)


def is_small(n: object, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """True for a count of 1..threshold; False for 0, None, a share and larger."""
    return isinstance(n, numbers.Integral) and not isinstance(n, bool) and 1 <= int(n) <= threshold


def round_half_up(value: float, digits: int) -> float:
    """Published statistics round 12.5 to 13; float round() would give 12."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


# --- the step ----------------------------------------------------------------------------


class _Codes:
    """The atoms' dimensions as small integer codes, so a count's atoms are
    found with numpy comparisons rather than a polars query per count.

    With `complete`, the atoms are every combination of the values seen (a
    reader does not know which groups are empty), laid out as an array with
    one axis per dimension: a count's atoms are then the outer product of
    one mask per dimension, and no grid is ever joined."""

    def __init__(self, atoms: pl.DataFrame, complete: bool) -> None:
        self.dims = [d for d in atoms.columns if d != "n"]
        self.index: dict[str, dict[object, int]] = {}
        codes: list[np.ndarray] = []
        for dim in self.dims:
            values = atoms[dim].to_list()
            index: dict[object, int] = {}
            codes.append(np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values)))
            self.index[dim] = index
        weights = atoms["n"].to_numpy().astype(np.int64) if "n" in atoms.columns else np.zeros(atoms.height, np.int64)
        self.shape = tuple(len(self.index[d]) for d in self.dims)
        size = math.prod(self.shape)
        self.grid = complete and bool(self.dims) and atoms.height > 0 and size <= MAX_ATOMS
        if self.grid:
            flat = np.ravel_multi_index(codes, self.shape)
            self.n = np.bincount(flat, weights=weights, minlength=size).astype(np.int64)
        else:
            self.n = weights
        self.codes = dict(zip(self.dims, codes, strict=True))
        self.size = self.n.size

    def mask(self, where: Where) -> np.ndarray:
        if self.grid:
            out = np.ones(self.shape, dtype=bool)
            for dim, wanted in where.items():
                axis = self.dims.index(dim)
                keep = self._keep(dim, wanted)
                out &= keep.reshape([-1 if a == axis else 1 for a in range(len(self.shape))])
            return out.ravel()
        out = np.ones(self.size, dtype=bool)
        for dim, wanted in where.items():
            out &= self._keep(dim, wanted)[self.codes[dim]]
        return out

    def _keep(self, dim: str, wanted: object) -> np.ndarray:
        """One flag per value of `dim`: is it among those wanted?"""
        index = self.index[dim]
        keep = np.zeros(len(index), dtype=bool)
        if isinstance(wanted, (list, tuple, set, frozenset)):
            keep[[index[w] for w in wanted if w in index]] = True
        elif wanted in index:
            keep[index[wanted]] = True
        return keep


@dataclass
class _Plan:
    """The release as matrices: one row per count, one column per atom."""

    keys: list[str]
    masks: np.ndarray  # counts x atoms, bool
    values: np.ndarray  # per count
    n: np.ndarray  # per atom
    index: dict[str, int]


# A reader does not know which groups are empty: the audit's atoms are every
# combination of the values seen (empty ones as 0), not only those that occur,
# up to this many (beyond it, the combinations that occur).
MAX_ATOMS = 250_000


def _plan(release: Release, complete: bool = False) -> _Plan:
    counts = [i for i in release.items if isinstance(i, Count)]
    codes = _Codes(release.atoms, complete)
    n = codes.n
    if counts and n.size:
        masks = np.vstack([codes.mask(c.where) for c in counts])
    else:
        masks = np.zeros((len(counts), n.size), dtype=bool)
    values = masks.astype(np.int64) @ n if n.size else np.zeros(len(counts), np.int64)
    keys = [c.key for c in counts]
    return _Plan(keys, masks, values, n, {k: i for i, k in enumerate(keys)})


# Releases already disclosed at board level, by their content. The audit is
# most of a board view's first sight of new data (at 2,000 young people, 1,370
# linear programs and 3 of the board overview's 5 s), and most releases are the
# same after a write: a value the lead enters, a month of staffing, an import
# into one year leave every other year's release as it was. The same release is
# disclosed the same way whenever it is asked, so its result is kept.
_AUDITED: OrderedDict[str, Released] = OrderedDict()
_AUDITED_MAX = 4096
_audited_lock = threading.Lock()


def _content(release: Release, threshold: int) -> str:
    """A digest of everything disclose() reads: the atoms (in a fixed order),
    every published figure with its definition, the lines and equalities."""
    digest = hashlib.sha256(
        repr((release.name, threshold, release.items, release.lines, release.equal, release.explicit)).encode()
    )
    atoms = release.atoms.sort(release.atoms.columns, nulls_last=True) if release.atoms.width else release.atoms
    digest.update(repr(atoms.schema).encode())
    for column in atoms.columns:
        digest.update(repr(atoms[column].to_list()).encode())
    return digest.hexdigest()


def forget_audits() -> None:
    """Let go of every audit kept (the bench does, to time a process that has made none)."""
    with _audited_lock:
        _AUDITED.clear()


def disclose(
    release: Release, suppressed: bool, threshold: int = DEFAULT_THRESHOLD, prior: Prior | None = None
) -> Released:
    """Every figure of `release` as a viewer may see it: all of them, or,
    for `suppressed` viewers, with primary, derived and secondary
    suppression applied and audited (see the module's notes), and with what
    a reader was shown before (`prior`) taken into account."""
    if not suppressed or prior is not None:
        return _disclose(release, suppressed, threshold, prior)
    content = _content(release, threshold)
    with _audited_lock:
        kept = _AUDITED.get(content)
        if kept is not None:
            _AUDITED.move_to_end(content)
            return kept
    made = _disclose(release, suppressed, threshold)
    with _audited_lock:
        _AUDITED[content] = made
        while len(_AUDITED) > _AUDITED_MAX:
            _AUDITED.popitem(last=False)
    return made


def _disclose(release: Release, suppressed: bool, threshold: int, prior: Prior | None = None) -> Released:
    plan = _plan(release, complete=suppressed and not release.explicit)
    counts = {i.key: i for i in release.items if isinstance(i, Count)}
    value: dict[str, int] = {k: int(plan.values[i]) for k, i in plan.index.items()}
    hidden: set[str] = set()
    primary: set[str] = set()
    unlisted: set[str] = set()
    prior = prior if suppressed and prior is not None else Prior()
    fixed = (set(prior.fixed) & counts.keys()) | {k for k, c in counts.items() if c.known}
    exposed = {k: b for k, b in prior.exposed.items() if k in counts}
    if suppressed:
        primary = {k for k, c in counts.items() if c.published and not c.known and is_small(value[k], threshold)}
        primary |= set(prior.sticky_primary) & counts.keys()
        unlisted = {k for k, c in counts.items() if c.unlisted_when_small and value[k] <= threshold}
        hidden |= primary | unlisted | (set(prior.sticky) & counts.keys()) | set(exposed)
    withheld: set[str] = set(prior.sticky_withheld) & counts.keys() if suppressed else set()
    hidden |= withheld
    _derive(release, value, hidden, suppressed, threshold)
    audit = Audit()
    if suppressed and (primary or exposed):
        lines = _true_lines(release, value)
        _close_declared_lines(lines, release, value, hidden, threshold, withheld, fixed)
        audit = _secure(release, plan, value, hidden, primary, unlisted, threshold, lines, withheld, fixed, exposed)
    published = [i for i in release.items if not (isinstance(i, Count) and not i.published)]
    audit.published = len(published)
    audit.hidden = sum(1 for i in published if i.key in hidden)
    audit.primary = len(primary)
    values = _values(release, value, hidden)
    for k in unlisted | withheld:
        values[k] = None
    audit.withheld = len(withheld)
    return Released(release.name, values, hidden, audit, suppressed, threshold, withheld, primary - unlisted)


Line = tuple[str, tuple[str, ...]]


def _true_lines(release: Release, value: dict[str, int]) -> list[Line]:
    """The declared lines that hold (total = sum of parts, all published counts)."""
    counts = {i.key: i for i in release.items if isinstance(i, Count)}
    out = []
    for total, parts in release.lines:
        members = (total, *parts)
        if all(m in counts and counts[m].published for m in members) and value[total] == sum(value[p] for p in parts):
            out.append((total, parts))
    return out


def _close_declared_lines(
    lines: list[Line],
    release: Release,
    value: dict[str, int],
    hidden: set[str],
    threshold: int,
    withheld: set[str],
    fixed: set[str] | None = None,
) -> None:
    """A line with exactly one hidden member gives it away by subtraction:
    hide a second, the smallest non-zero part; where the only other figure is
    a headline total (quoted in words), leave the part out of the table
    instead, so the headline stays; until no line has a lone hidden member.
    A `fixed` figure (known to a reader from before) is never the second."""
    fixed = fixed or set()
    counts = {i.key: i for i in release.items if isinstance(i, Count)}
    changed = True
    while changed:
        changed = False
        for total, parts in lines:
            members = (total, *parts)
            lone = [m for m in members if m in hidden and m not in withheld and value[m] > 0]
            if len(lone) != 1:
                continue
            shown = sorted((value[p], p) for p in parts if p not in hidden and p not in fixed and value[p] > 0)
            if shown:
                hidden.add(shown[0][1])
            elif lone[0] != total and counts[total].headline and total not in hidden:
                withheld.add(lone[0])
            elif total not in hidden and total not in fixed:
                hidden.add(total)
            else:
                continue
            _derive(release, value, hidden, True, threshold)
            changed = True


def _share_value(num: int, den: int, digits: int) -> float | None:
    return None if den == 0 else round_half_up(100.0 * num / den, digits)


def _values(release: Release, value: dict[str, int], hidden: set[str]) -> dict[str, Shown]:
    out: dict[str, Shown] = {}
    for item in release.items:
        if isinstance(item, Count) and not item.published:
            continue  # a helper (a share's numerator): never shown, so never handed on
        if item.key in hidden:
            out[item.key] = SUPPRESSED
        elif isinstance(item, Count):
            out[item.key] = value[item.key]
        elif isinstance(item, Share):
            out[item.key] = _share_value(value[item.num], value[item.den], item.digits)
        elif isinstance(item, Median):
            out[item.key] = item.value if value[item.n] else None
        elif isinstance(item, Derived):
            out[item.key] = item.value
        else:
            den = value[item.den]
            out[item.key] = None if den == 0 else round_half_up(item.total / den, item.digits)
    return out


def _derive(release: Release, value: dict[str, int], hidden: set[str], suppressed: bool, threshold: int) -> None:
    """A share, median or rate standing on a small or hidden count is hidden."""
    if not suppressed:
        return

    def weak(key: str) -> bool:
        return key in hidden or is_small(value.get(key), threshold)

    # Derived figures may stand on shares: go round until nothing changes.
    changed = True
    while changed:
        changed = False
        for item in release.items:
            if item.key in hidden:
                continue
            if isinstance(item, Share):
                stands_on: tuple[str, ...] = (item.num, item.den)
            elif isinstance(item, Median):
                stands_on = (item.n,)
            elif isinstance(item, Rate):
                stands_on = (item.den,)
            elif isinstance(item, Derived):
                stands_on = item.depends
            else:
                continue
            if any(weak(k) for k in stands_on):
                hidden.add(item.key)
                changed = True


# --- the audit ------------------------------------------------------------------------


@dataclass
class _Component:
    atoms: np.ndarray  # indices into the release's atoms
    counts: list[int]  # indices of counts touching them
    shares: list[Share]


def _components(release: Release, plan: _Plan) -> list[_Component]:
    """Groups of atoms linked by some published figure: each is audited alone."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n_counts, n_atoms = plan.masks.shape
    shares = [i for i in release.items if isinstance(i, Share)]
    # A graph of counts and atoms (a count joins its atoms); a share joins its two counts.
    rows, cols = np.nonzero(plan.masks)
    pairs = [(plan.index[s.num], plan.index[s.den]) for s in shares]
    pairs += [(plan.index[a], plan.index[b]) for a, b in release.equal]
    edges_a = [rows, *[np.array([a]) for a, _ in pairs]]
    edges_b = [cols + n_counts, *[np.array([b]) for _, b in pairs]]
    a, b = np.concatenate(edges_a), np.concatenate(edges_b)
    size = n_counts + n_atoms
    graph = csr_matrix((np.ones(a.size), (a, b)), shape=(size, size))
    _n, label = connected_components(graph, directed=False)
    count_label, atom_label = label[:n_counts], label[n_counts:]
    out = []
    for root in np.unique(atom_label):
        members = np.flatnonzero(atom_label == root)
        counts = [int(i) for i in np.flatnonzero(count_label == root)]
        mine = [s for s in shares if count_label[plan.index[s.den]] == root]
        out.append(_Component(members, counts, mine))
    return out


def _highs() -> object:
    """A HiGHS instance. The first one of a process prints HiGHS's banner on
    the C standard output; that one is made with the output pointed away, so
    a command's output (and the server's log) says only what the product says."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    with _BANNER_LOCK:
        if not _BANNER_SHOWN:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as sink:
                    os.dup2(sink.fileno(), 1)
                    first = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_SHOWN = True
            return first
    return highspy.Highs()


_BANNER_SHOWN = False
_BANNER_LOCK = threading.Lock()


def _distinct_columns(sub: np.ndarray) -> np.ndarray:
    """The distinct columns of a boolean matrix: each packed into bytes and
    compared as one value (a row-wise np.unique sorts column by column)."""
    packed = np.ascontiguousarray(np.packbits(sub.T, axis=1))
    whole = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _values, first = np.unique(whole, return_index=True)
    return sub[:, np.sort(first)]


class _Model:
    """The attacker's linear program for one component, kept in HiGHS: one
    row per count and two per share, built once; hiding a figure only
    changes its rows' bounds, and each question (how low, how high can this
    count be?) only changes the objective, so every solve starts warm."""

    def __init__(
        self,
        plan: _Plan,
        comp: _Component,
        counts: dict[str, Count],
        hidden: set[str],
        primary: set[str],
        value: dict[str, int],
        threshold: int,
        unlisted: set[str],
        withheld: set[str],
        equal: list[tuple[str, str]],
        exposed: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        import highspy

        # Hidden and withheld change as the audit goes on (refresh reads them);
        # what is primary, left out or published is fixed (flags below).
        self.threshold, self.hidden, self.withheld, self.value = threshold, hidden, withheld, value
        # Atoms in the same figures behave as one: merge them (by membership signature).
        sub = plan.masks[np.ix_(comp.counts, comp.atoms)] if comp.counts else np.zeros((0, comp.atoms.size), bool)
        merged = _distinct_columns(sub).T if comp.atoms.size else np.zeros((0, len(comp.counts)), bool)
        self.n_vars = merged.shape[0]
        self.rows = merged.T.astype(float)  # counts x merged atoms
        self.row_of = {plan.keys[c]: r for r, c in enumerate(comp.counts)}
        self.shares = [s for s in comp.shares if s.num in self.row_of and s.den in self.row_of]
        self.highs = _highs()
        self.highs.setOptionValue("output_flag", False)
        # Between solves only the objective changes (and, when a figure is
        # hidden, a few row bounds), so the last basis stays primal feasible:
        # primal simplex goes on from it, three times as fast here as the
        # default dual (at 2,000 young people the board overview's 1,292
        # solves took 2.0 s with the default, 0.65 s with primal).
        self.highs.setOptionValue("simplex_strategy", 4)
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None
        # Solutions of earlier solves under the bounds as they are now: each is
        # a table a reader could not rule out, so any count it makes large
        # enough is shown to be safe without a solve of its own.
        self._seen: list[np.ndarray] = []
        # Counts still to be checked: surveyed together whenever the solutions seen are let go.
        self.pending: set[str] = set()
        self._surveyed = False
        inf = highspy.kHighsInf
        self.inf = inf
        for _ in range(self.n_vars):
            self.highs.addVar(0.0, inf)
        for r in range(self.rows.shape[0]):
            cols = np.flatnonzero(self.rows[r]).astype(np.int32)
            self.highs.addRow(-inf, inf, cols.size, cols, np.ones(cols.size))
        self.share_row: dict[str, int] = {}
        for s in self.shares:
            num, den = self.rows[self.row_of[s.num]], self.rows[self.row_of[s.den]]
            shown = _share_value(value[s.num], value[s.den], s.digits)
            half = 0.5 * 10.0 ** (-s.digits)
            self.share_row[s.key] = self.highs.getNumRow()
            for coef in ((shown or 0.0) - half, (shown or 0.0) + half):
                row = 100.0 * num - coef * den
                cols = np.flatnonzero(row).astype(np.int32)
                self.highs.addRow(-inf, inf, cols.size, cols, row[cols])
        for a, b in equal:
            if a in self.row_of and b in self.row_of:
                row = self.rows[self.row_of[a]] - self.rows[self.row_of[b]]
                cols = np.flatnonzero(row).astype(np.int32)
                if cols.size:
                    self.highs.addRow(0.0, 0.0, cols.size, cols, row[cols])
        self.keys = list(self.row_of)
        self.values = np.array([float(value[k]) for k in self.keys])
        self.is_primary = np.array([k in primary for k in self.keys], dtype=bool)
        exposed = exposed or {}
        # A figure hidden because its change would show: a reader who knows its old value knows this much.
        self.is_exposed = np.array([k in exposed for k in self.keys], dtype=bool)
        self.exposed_low = np.array([float(exposed.get(k, (0, 0))[0]) for k in self.keys])
        self.exposed_high = np.array([float(exposed.get(k, (0, 0))[1]) for k in self.keys])
        self.is_unlisted = np.array([k in unlisted for k in self.keys], dtype=bool)
        self.is_published = np.array([counts[k].published for k in self.keys], dtype=bool)
        share_rows = [r for s in self.shares for r in (self.share_row[s.key], self.share_row[s.key] + 1)]
        self.bound_rows = np.array([*self.row_of.values(), *share_rows], dtype=np.int32)
        self.refresh()

    def refresh(self) -> None:
        """Row bounds from what is shown and hidden now (sent to HiGHS only when they changed)."""
        inf, keys = self.inf, self.keys
        hidden = np.fromiter((k in self.hidden for k in keys), bool, len(keys))
        withheld = np.fromiter((k in self.withheld for k in keys), bool, len(keys))
        # Shown: its value. Hidden: at least 1 (zeros are always shown), and one
        # hidden for being small at most the threshold; withheld for being small,
        # the same (a reader who knows which counts are small knows a blank is one
        # of them, and a group not drawn in the flow is still seen to be missing).
        # Left out of a breakdown when small: small or 0 (a band not listed could be
        # either). Not published, or withheld without being small: anything.
        low = np.where(hidden, 1.0, self.values)
        high = np.where(hidden, np.where(self.is_primary, float(self.threshold), inf), self.values)
        low = np.where(hidden & self.is_exposed, np.maximum(low, self.exposed_low), low)
        high = np.where(hidden & self.is_exposed, np.minimum(high, self.exposed_high), high)
        low = np.where(self.is_unlisted, 0.0, low)
        high = np.where(self.is_unlisted, float(self.threshold), high)
        free = (withheld & ~self.is_primary) | ~self.is_published
        low, high = np.where(free, -inf, low), np.where(free, inf, high)
        if self.shares:
            shown = np.array([s.key not in self.hidden and self.value[s.den] > 0 for s in self.shares])
            # (shown - half) * den <= 100 * num <= (shown + half) * den
            pairs_low = np.column_stack([np.where(shown, 0.0, -inf), np.full(shown.size, -inf)]).ravel()
            pairs_high = np.column_stack([np.full(shown.size, inf), np.where(shown, 0.0, inf)]).ravel()
            low, high = np.concatenate([low, pairs_low]), np.concatenate([high, pairs_high])
        if self._bounds is not None and np.array_equal(low, self._bounds[0]) and np.array_equal(high, self._bounds[1]):
            return
        # While a release is secured figures are only ever hidden or left out, never shown
        # again: bounds only loosen, so every table seen so far is still one a reader allows.
        self._bounds = (low, high)
        self.highs.changeRowsBounds(self.bound_rows.size, self.bound_rows, low, high)

    def mark(self) -> int:
        """How many tables have been seen (rewind() forgets those seen after)."""
        return len(self._seen)

    def rewind(self, mark: int) -> None:
        """Forget tables seen since `mark`: seen under bounds a trial loosened, now tightened again."""
        del self._seen[mark:]

    def survey(self, keys: list[str]) -> None:
        """One solve pushing every count in `keys` up at once: its table is
        one a reader cannot rule out, and shows at a stroke that most of
        them can be large enough (bounds_of then asks only about the rest;
        with hundreds of small counts in one release, one solve for each was
        most of the audit's time)."""
        keys = [k for k in keys if k in self.row_of]
        if not keys:
            return
        self.refresh()
        row = self.rows[[self.row_of[k] for k in keys]].sum(axis=0)
        self._objective(-row)  # every one as high as it can be together,
        self._objective(row)  # and as low

    def _objective(self, cost: np.ndarray) -> float | None:
        import highspy

        self.highs.changeColsCost(self.n_vars, np.arange(self.n_vars, dtype=np.int32), cost)
        self.highs.run()
        if self.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            self._seen.append(np.asarray(self.highs.getSolution().col_value))
            return float(self.highs.getInfo().objective_function_value)
        return None

    def _solve(self, key: str, sense: int) -> float:
        import highspy

        row = self.rows[self.row_of[key]]
        self.highs.changeColsCost(self.n_vars, np.arange(self.n_vars, dtype=np.int32), sense * row)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            self._seen.append(np.asarray(self.highs.getSolution().col_value))
            return sense * self.highs.getInfo().objective_function_value
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return -math.inf * sense
        raise RuntimeError(f"disclosure audit: the linear program ended {self.highs.modelStatusToString(status)}")

    def bounds_of(self, key: str) -> tuple[float, float]:
        """Whole numbers the count can take, rounded inwards from the linear
        program's range (a count is a whole number). The true value is always
        among them, so when the highest alone leaves room enough for
        protection() values the lowest is not asked: the range returned is
        then [true value, highest], a part of the whole that already shows the
        count cannot be narrowed. A range that can be narrowed is always whole,
        so every decision taken from it is the same as with both ends solved."""
        self.refresh()
        if not self._surveyed and self.pending:
            self._surveyed = True
            self.survey(sorted(self.pending))
        value = self.value[key]
        row = self.rows[self.row_of[key]]
        # Tables seen so far are ones a reader cannot rule out: every value
        # between the lowest and highest they give this count is possible too.
        if self._seen:
            reached = [float(row @ seen) for seen in self._seen]
            low_seen = min(value, math.ceil(min(reached) - 1e-6))
            high_seen = max(value, math.floor(max(reached) + 1e-6))
            if not narrowed(low_seen, high_seen, self.threshold):
                return low_seen, high_seen
        high = self._solve(key, -1)
        high = math.floor(high + 1e-6) if math.isfinite(high) else math.inf
        if not narrowed(value, high, self.threshold):
            return value, high
        return math.ceil(self._solve(key, 1) - 1e-6), high


def _secure(
    release: Release,
    plan: _Plan,
    value: dict[str, int],
    hidden: set[str],
    primary: set[str],
    unlisted: set[str],
    threshold: int,
    lines: list[Line],
    withheld: set[str],
    fixed: set[str] | None = None,
    exposed: Mapping[str, tuple[int, int]] | None = None,
) -> Audit:
    """Hide further figures until no small hidden count can be narrowed; where
    a few complementary figures will not do, withhold the table that pins it.
    Figures hidden because their change would show (`exposed`) are protected
    the same way; `fixed` ones (known from before) are never hidden."""
    counts = {i.key: i for i in release.items if isinstance(i, Count)}
    fixed = fixed or set()
    exposed = exposed or {}
    audit = Audit()
    for comp in _components(release, plan):
        keys = [plan.keys[c] for c in comp.counts]
        protect = [k for k in keys if k in primary or k in exposed]
        if not protect:
            continue
        model = _Model(
            plan, comp, counts, hidden, primary, value, threshold, unlisted, withheld, release.equal, exposed
        )
        model.pending = set(protect)
        for key in sorted(protect, key=lambda k: value[k]):
            model.pending.discard(key)
            low, high = model.bounds_of(key)
            # First smaller figures next to it; then leave its table out; a
            # headline total is hidden only when nothing else will do.
            for stage in ("parts", "withhold", "headline", "any"):
                if not narrowed(low, high, threshold):
                    break
                if stage == "withhold":
                    _withhold(key, lines, counts, hidden, withheld, value, release, threshold, fixed)
                    low, high = model.bounds_of(key)
                    continue
                if stage == "any":
                    # Last: every figure shown over young people this count holds, each tried in
                    # turn (the heuristics above found none that widens it).
                    low, high = _any_complement(
                        key, (low, high), model, plan, counts, comp, hidden, value, fixed, release
                    )
                    continue
                for _attempt in range(COMPLEMENTS if stage == "parts" else len(keys)):
                    choice = _complement(
                        key,
                        (low, high),
                        model,
                        plan,
                        counts,
                        comp,
                        hidden,
                        value,
                        release,
                        threshold,
                        lines,
                        headline=stage == "headline",
                        fixed=fixed,
                    )
                    if choice is None:
                        break
                    low, high = choice
                    if not narrowed(low, high, threshold):
                        break
            audit.intervals.append(Interval(key, low, high))
            if narrowed(low, high, threshold):
                audit.recoverable += 1
    return audit


def _any_complement(
    key: str,
    bounds: tuple[float, float],
    model: _Model,
    plan: _Plan,
    counts: dict[str, Count],
    comp: _Component,
    hidden: set[str],
    value: dict[str, int],
    fixed: set[str] | None,
    release: Release,
) -> tuple[float, float]:
    """Hide, one at a time, the shown figure over young people `key` holds
    that widens its range most, until it cannot be narrowed or none widens it."""
    fixed = fixed or set()
    mask = plan.masks[plan.index[key]]
    low, high = bounds
    while narrowed(low, high, model.threshold):
        candidates = [
            plan.keys[c]
            for c in comp.counts
            if (plan.masks[c] & mask).any()
            and plan.keys[c] not in hidden
            and plan.keys[c] not in fixed
            and counts[plan.keys[c]].published
            and value[plan.keys[c]] > 0
        ]
        candidates += [
            s.key
            for s in comp.shares
            if s.key not in hidden
            and value[s.den] > 0
            and not (s.num in fixed and s.den in fixed)
            and ((plan.masks[plan.index[s.num]] | plan.masks[plan.index[s.den]]) & mask).any()
        ]
        best: tuple[float, str] | None = None
        for candidate in candidates:
            mark, saved = model.mark(), set(hidden)
            hidden.add(candidate)
            _derive(release, value, hidden, True, model.threshold)
            new_low, new_high = model.bounds_of(key)
            hidden.clear()
            hidden.update(saved)
            model.rewind(mark)
            gain = (low - new_low) + (new_high - high)
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, candidate)
        if best is None:
            break
        hidden.add(best[1])
        _derive(release, value, hidden, True, model.threshold)
        low, high = model.bounds_of(key)
    return low, high


def _withhold(
    key: str,
    lines: list[Line],
    counts: dict[str, Count],
    hidden: set[str],
    withheld: set[str],
    value: dict[str, int],
    release: Release,
    threshold: int,
    fixed: set[str] | None = None,
) -> None:
    """Leave out (not even as c) the table that pins `key`: every member of
    the lines through it, or, with no line, the count itself. A figure that
    is not published gives a reader no lower bound, so nothing is pinned."""
    # A part takes its siblings with it; a total its parts. A headline total
    # (quoted in words) stays: the parts are what say too much.
    members = set()
    for total, parts in lines:
        if key in parts:
            members |= set(parts)
        elif key == total:
            members |= {total, *parts}
    # Zeros go too: a breakdown left out is left out whole, or a blank beside a 0 would read as "at least 1".
    members = {
        m for m in members if m not in withheld and m not in (fixed or set()) and not (counts[m].headline and m != key)
    } or {key}
    withheld |= members
    hidden |= members
    _derive(release, value, hidden, True, threshold)


def _complement(
    key: str,
    bounds: tuple[float, float],
    model: _Model,
    plan: _Plan,
    counts: dict[str, Count],
    comp: _Component,
    hidden: set[str],
    value: dict[str, int],
    release: Release,
    threshold: int,
    lines: list[Line],
    headline: bool = False,
    fixed: set[str] | None = None,
) -> tuple[float, float] | None:
    """Hide one more figure to protect `key`; returns its new range, or None
    when nothing is left to hide. Candidates are shown figures that share a
    total with it (or are that total): sibling counts first, the smallest
    first, then shares, then headline counts; the first that widens the range
    is taken (tau-Argus-style: complementary cells chosen to protect, at the
    least loss of information), else the first in that order."""
    # Along the lines through it, then the lines through those members.
    sibling: set[str] = set()
    reach = {key}
    for _step in range(2):
        found = {m for total, parts in lines for m in (total, *parts) if reach & {total, *parts}}
        sibling |= found
        reach = found

    def allowed(k: str) -> bool:
        return (
            k not in hidden
            and k not in (fixed or ())
            and counts[k].published
            and value[k] > 0
            and counts[k].headline == headline
        )

    def known(share: Share) -> bool:
        # Over two figures a reader knows from before, a share is known too: hiding it protects nothing.
        return share.num in (fixed or ()) and share.den in (fixed or ())

    ranked: list[tuple[int, int, str]] = [(0, value[k], k) for k in sibling if allowed(k)]
    # A total whose other parts are all hidden already pins the count by subtraction (the
    # partnership's group of three localities' hidden groups): it is tried first, however
    # large, or hiding ever more small siblings would never widen the range.
    ranked += [
        (-1, value[total], total)
        for total, parts in lines
        if key in parts and allowed(total) and all(p == key or p in hidden or value[p] == 0 for p in parts)
    ]
    if ranked and not headline:
        # A share over the same counts can pin a cell as surely as a total: it is a candidate too;
        # so is any share over young people the count holds (Theme 1's quarterly share of those
        # picked up bounds how many slipped in the quarter).
        mask = plan.masks[plan.index[key]]
        ranked += [
            (1 if s.den in sibling else 2, value[s.num], s.key)
            for s in comp.shares
            if s.key not in hidden
            and value[s.den] > 0
            and not known(s)
            and (s.den in sibling or ((plan.masks[plan.index[s.num]] | plan.masks[plan.index[s.den]]) & mask).any())
        ]
    if ranked:
        return _try(
            key, bounds, ranked, model, hidden, value, release, threshold, lines, model.withheld, fixed or set()
        )
    mask = plan.masks[plan.index[key]]
    near = [c for c in comp.counts if (plan.masks[c] & mask).any()]
    near_mask = np.logical_or.reduce([plan.masks[c] for c in near]) if near else mask
    for c in comp.counts:
        k = plan.keys[c]
        if allowed(k) and (plan.masks[c] & near_mask).any():
            ranked.append((0, value[k], k))
    if not headline:
        for s in comp.shares:
            if s.key in hidden or value[s.den] == 0 or known(s):
                continue
            if ((plan.masks[plan.index[s.num]] | plan.masks[plan.index[s.den]]) & near_mask).any():
                ranked.append((1, value[s.num], s.key))
    if not ranked:
        # Nothing shares a total with it: widen the search to the whole component.
        ranked = [(0, value[plan.keys[c]], plan.keys[c]) for c in comp.counts if allowed(plan.keys[c])]
        if not headline:
            ranked += [
                (1, value[s.num], s.key)
                for s in comp.shares
                if s.key not in hidden and value[s.den] > 0 and not known(s)
            ]
    if not ranked:
        return None
    return _try(key, bounds, ranked, model, hidden, value, release, threshold, lines, model.withheld, fixed or set())


def _try(
    key: str,
    bounds: tuple[float, float],
    ranked: list[tuple[int, int, str]],
    model: _Model,
    hidden: set[str],
    value: dict[str, int],
    release: Release,
    threshold: int,
    lines: list[Line],
    withheld: set[str],
    fixed: set[str],
) -> tuple[float, float]:
    """Hide the first candidate that widens `key`'s range; a candidate is
    tried with what it takes with it (a line it would be the lone hidden
    member of gets a second, as _close_declared_lines does), so a total that
    is itself pinned by its own line can still be the complement."""
    low, high = bounds
    ranked.sort()
    # The first few of each kind (totals pinning it, siblings, shares over the same
    # people, shares over some of them): the smallest siblings alone may never widen it.
    trials: list[tuple[int, int, str]] = []
    for rank in sorted({r for r, _v, _k in ranked}):
        trials += [c for c in ranked if c[0] == rank][:TRIALS]
    for _rank, _value, candidate in trials:
        saved_hidden, saved_withheld, mark = set(hidden), set(withheld), model.mark()
        hidden.add(candidate)
        _derive(release, value, hidden, True, threshold)
        _close_declared_lines(lines, release, value, hidden, threshold, withheld, fixed)
        new_low, new_high = model.bounds_of(key)
        if new_low < low or new_high > high:
            return new_low, new_high
        hidden.clear()
        hidden.update(saved_hidden)
        withheld.clear()
        withheld.update(saved_withheld)
        model.rewind(mark)  # tables seen with the trial's looser bounds may not hold without it
    first = ranked[0][2]
    hidden.add(first)
    _derive(release, value, hidden, True, threshold)
    _close_declared_lines(lines, release, value, hidden, threshold, withheld, fixed)
    return model.bounds_of(key)
