"""A reader with a board account, built from what the board's pages send to
the browser (sentences, tiles, tables and the data of every chart, as
Streamlit's AppTest receives them), never from the product's own objects.

It holds every board view of a publication at once (every period, locality
and tab of the cohort flow, and every locality's programme progress) and
writes down, in its own words, what it knows of the young people who turned
18 in a year: one integer unknown for each combination of locality, quarter
of the 18th birthday, service at 17, plan, adult service, whether they
slipped through the net and how they fare at 19-21 (with the gap bands and
the characteristics of those with intensive support as tables of their own,
tied to the rest by the totals they share). Every figure it reads is a
constraint: a count is a sum of unknowns, a percentage is a ratio within its
rounding, a hidden figure is at least 1, and, as the product assumes, the
reader knows which hidden counts were hidden for being small. Then, for each
hidden count, it asks an integer program (scipy's HiGHS MILP) how low and how
high that count can be. The definitions page promises at least half the 1 to
threshold range of values.

The truth it is checked against (which counts are small, and their values)
is read from the project lead's pages for the same views.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix
from streamlit.testing.v1 import AppTest

from models.codes import ADULT_SERVICES, CARE_STATUS, CHILDREN_SERVICES, ETHNICITY_GROUPS, SEND_STATUS, SEX

# The categories the definitions name, as the pages label them.
SERVICES = [*CHILDREN_SERVICES.values(), "No children's service at 17"]
INTENSIVE = ["Child protection", "Looked after", "EmPower team"]
PLANS = ["Agreed on time", "Agreed late", "No plan"]
NO_ADULT = "No adult service"
ADULTS = [*ADULT_SERVICES.values(), NO_ADULT]
OUTCOMES = [
    "In education, employment or training",
    "NEET",
    "Homeless or unsuitable accommodation",
    "Custody",
    "Lost contact or not known",
    "Not yet 19",
]
STAGES = {"Service at 17": "S", "Plan by 17½": "P", "Adult service by 18 + 3 months": "A", "Latest at 19-21": "O"}
STEPS = {"17 to plan": ("S", "P"), "plan to 18": ("P", "A"), "18 to 19-21": ("A", "O")}
BANDS = ["No gap", "1-28 days", "29-90 days", "91-180 days", "Over 180 days"]
NO_GAP = "No gap measured"
CHARACTERISTICS = {
    "Sex": list(SEX.values()),
    "Ethnicity": list(ETHNICITY_GROUPS.values()),
    "SEND": list(SEND_STATUS.values()),
    "Care status": list(CARE_STATUS.values()),
}
PICKUP = "Picked up by an adult service within 3 months of 18 (intensive support before 18)"
LOCALITIES = ["Central", "East", "North"]
ALL = "all"


def protection(threshold: int) -> int:
    """What the definitions page promises: half the 1-to-threshold range, at least 2 values."""
    return max(2, (threshold + 1) // 2)


# --- what the browser receives ------------------------------------------------------------------


@dataclass
class Seen:
    """One page run as received: its elements in page order."""

    elements: list[tuple[str, object]] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [str(v) for k, v in self.elements if k in ("markdown", "caption")]

    def metrics(self) -> dict[str, str]:
        return {label: value for k, (label, value) in ((k, v) for k, v in self.elements if k == "metric")}  # type: ignore[misc]

    def tables(self, column: str) -> list[pd.DataFrame]:
        return [v for k, v in self.elements if k == "table" and column in v.columns]  # type: ignore[union-attr]

    def datasets(self) -> list[pd.DataFrame]:
        return [d for k, v in self.elements if k == "chart" for d in v]  # type: ignore[union-attr]

    def after(self, heading: str) -> Seen:
        """The elements after a subheader (to the next one)."""
        out, inside = Seen(), False
        for kind, value in self.elements:
            if kind == "subheader":
                inside = value == heading
                continue
            if inside:
                out.elements.append((kind, value))
        return out


def _walk(node: object) -> Iterator[object]:
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            yield from _walk(child)
    else:
        yield node


def see(at: AppTest) -> Seen:
    seen = Seen()
    for el in _walk(at.main):
        kind = getattr(el, "type", "")
        if kind in ("markdown", "caption", "subheader"):
            seen.elements.append((kind, el.value))  # type: ignore[attr-defined]
        elif kind == "metric":
            seen.elements.append(("metric", (el.label, str(el.value))))  # type: ignore[attr-defined]
        elif kind in ("arrow_data_frame", "dataframe", "table"):
            seen.elements.append(("table", el.value))  # type: ignore[attr-defined]
        elif kind in ("vega_lite_chart", "arrow_vega_lite_chart"):
            frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in el.proto.datasets]  # type: ignore[attr-defined]
            seen.elements.append(("chart", frames))
    return seen


def visit(at: AppTest, page: str, **params: str) -> Seen:
    for key in list(at.query_params):
        del at.query_params[key]
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return see(at)


# --- reading numbers in words -------------------------------------------------------------------


def number(text: object) -> int | None:
    """'1,234' -> 1234; 'c', '', 'fewer than 6', 'a number not shown' -> None."""
    value = str(text).strip().replace(",", "")
    return int(value) if value.isdigit() else None


def percent(text: object) -> float | None:
    value = str(text).strip().rstrip("%")
    try:
        return float(value)
    except ValueError:
        return None


# --- the integer program -------------------------------------------------------------------------

Expr = dict[int, float]


class Program:
    """Integer unknowns by name, and what is known of them."""

    def __init__(self) -> None:
        self.index: dict[tuple[object, ...], int] = {}
        self.rows: list[tuple[Expr, float, float]] = []
        self._matrix: tuple[csr_matrix, np.ndarray, np.ndarray] | None = None

    def var(self, name: tuple[object, ...]) -> int:
        if name not in self.index:
            self.index[name] = len(self.index)
            self._matrix = None
        return self.index[name]

    def sum(self, names: list[tuple[object, ...]]) -> Expr:
        out: Expr = {}
        for n in names:
            i = self.index.get(n)
            if i is not None:
                out[i] = out.get(i, 0.0) + 1.0
        return out

    def known(self, expr: Expr, low: float, high: float) -> None:
        self.rows.append((expr, low, high))
        self._matrix = None

    def equal(self, a: Expr, b: Expr) -> None:
        diff = dict(a)
        for i, c in b.items():
            diff[i] = diff.get(i, 0.0) - c
        self.known({i: c for i, c in diff.items() if c}, 0.0, 0.0)

    def share(self, num: Expr, den: Expr, shown: float, digits: int) -> None:
        """num/den shown as `shown` (percent, rounded to `digits`)."""
        half = 0.5 * 10.0**-digits
        for bound, sense in ((shown - half, 1), (shown + half, -1)):
            row = {i: 100.0 * c for i, c in num.items()}
            for i, c in den.items():
                row[i] = row.get(i, 0.0) - bound * c
            if sense == 1:
                self.known(row, 0.0, math.inf)
            else:
                self.known(row, -math.inf, 0.0)

    def _built(self) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        if self._matrix is None:
            data, rows, cols, lo, hi = [], [], [], [], []
            for r, (expr, low, high) in enumerate(self.rows):
                for i, c in expr.items():
                    rows.append(r)
                    cols.append(i)
                    data.append(c)
                lo.append(low)
                hi.append(high)
            shape = (len(self.rows), len(self.index))
            self._matrix = (csr_matrix((data, (rows, cols)), shape=shape), np.array(lo), np.array(hi))
        return self._matrix

    def extreme(self, expr: Expr, sense: int) -> float:
        """The least (sense 1) or greatest (sense -1) whole value of `expr`."""
        matrix, lo, hi = self._built()
        cost = np.zeros(len(self.index))
        for i, c in expr.items():
            cost[i] = sense * c
        found = milp(
            cost,
            constraints=LinearConstraint(matrix, lo, hi),
            integrality=np.ones(len(self.index)),
            bounds=Bounds(0, np.inf),
            options={"time_limit": 20},
        )
        if found.status == 3:  # unbounded
            return -math.inf * sense
        if found.status == 1:
            # Out of time: the best bound proved so far, or the linear relaxation's (never
            # narrower than the true range: the reader claims only what it has proved).
            dual = found.get("mip_dual_bound")
            bound = sense * dual if dual is not None and math.isfinite(dual) else self._relaxed(cost, sense)
            return math.floor(bound + 1e-6) if sense == -1 else math.ceil(bound - 1e-6)
        assert found.status == 0, f"the reader's program: {found.message}"
        return round(sense * found.fun)

    def _relaxed(self, cost: np.ndarray, sense: int) -> float:
        matrix, lo, hi = self._built()
        found = milp(cost, constraints=LinearConstraint(matrix, lo, hi), bounds=Bounds(0, np.inf))
        if found.status == 3:
            return -math.inf * sense
        assert found.status == 0, f"the reader's relaxed program: {found.message}"
        return sense * found.fun

    def solution(self, cost: Expr, sense: int, seconds: float = 5.0) -> np.ndarray | None:
        """An integer solution pushing `cost` down (sense 1) or up (-1), the best found in `seconds`."""
        matrix, lo, hi = self._built()
        vector = np.zeros(len(self.index))
        for i, c in cost.items():
            vector[i] = sense * c
        found = milp(
            vector,
            constraints=LinearConstraint(matrix, lo, hi),
            integrality=np.ones(len(self.index)),
            bounds=Bounds(0, np.inf),
            options={"time_limit": seconds},
        )
        return None if found.x is None else np.round(found.x)

    def example(self, expr: Expr, low: float, high: float, seconds: float = 5.0) -> np.ndarray | None:
        """An integer solution giving `expr` a value in [low, high], if one is found in `seconds`."""
        self.known(expr, low, high)
        try:
            return self._any(seconds)
        finally:
            self.rows.pop()
            self._matrix = None

    def feasible(self, seconds: float = 10.0) -> bool:
        """Whether an integer solution was found (in `seconds`: not found in time counts as none)."""
        return self._any(seconds) is not None

    def _any(self, seconds: float) -> np.ndarray | None:
        matrix, lo, hi = self._built()
        found = milp(
            np.zeros(len(self.index)),
            constraints=LinearConstraint(matrix, lo, hi),
            integrality=np.ones(len(self.index)),
            bounds=Bounds(0, np.inf),
            options={"time_limit": seconds},
        )
        return None if found.x is None else np.round(found.x)


# --- the young people who turned 18 in a year, as the board reads them ------------------------------


@dataclass(frozen=True)
class Hidden:
    """A count the board is not shown (c, not drawn, or not listed) and its true value."""

    what: str
    expr_key: tuple[object, ...]
    truth: int


def _quarters(year: int, words: str) -> list[dt.date]:
    """Quarters of the 18th birthdays a sentence names: '2025', 'January to May 2026'."""
    if words.strip() == str(year):
        return [dt.date(year, m, 1) for m in (1, 4, 7, 10)]
    months = re.findall(
        r"(January|February|March|April|May|June|July|August|September|October|November|December)", words
    )
    if not months:
        return [dt.date(year, m, 1) for m in (1, 4, 7, 10)]
    names = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    first, last = names.index(months[0]) + 1, names.index(months[-1]) + 1
    return sorted({dt.date(year, (m - 1) // 3 * 3 + 1, 1) for m in range(first, last + 1)})


class CrossingEighteen:
    """What the board reads of the young people who turned 18 in `year`, as an integer program."""

    def __init__(self, year: int, as_of: dt.date, threshold: int) -> None:
        self.year, self.as_of, self.threshold = year, as_of, threshold
        self.p = Program()
        self.hidden: list[Hidden] = []
        self.quarters: list[dt.date] = []
        self._exprs: dict[tuple[object, ...], Expr] = {}

    # The unknowns. ------------------------------------------------------------------------
    def unknowns(self, quarters: list[dt.date]) -> None:
        self.quarters = quarters
        for loc, q, s, plan, a, slipped in itertools.product(
            LOCALITIES, quarters, SERVICES, PLANS, ADULTS, (False, True)
        ):
            if slipped and (s not in INTENSIVE or a != NO_ADULT):
                continue  # slipped through the net: intensive support and no adult service
            self.p.var(("x", loc, q, s, plan, a, slipped))
        for loc, q, a, o in itertools.product(LOCALITIES, quarters, ADULTS, OUTCOMES):
            # Not yet 19 on the figures' date exactly when the 18th birthday was under a year before it.
            months = [dt.date(q.year, q.month + i, 1) for i in range(3)]
            young = {(self.as_of.year - m.year) * 12 + self.as_of.month - m.month < 12 for m in months}
            if (young == {True} and o != "Not yet 19") or (young == {False} and o == "Not yet 19"):
                continue
            self.p.var(("y", loc, q, a, o))
        for loc, band in itertools.product(LOCALITIES, [*BANDS, NO_GAP]):
            self.p.var(("g", loc, band))
        for title, values in CHARACTERISTICS.items():
            for loc, slipped, v in itertools.product(LOCALITIES, (False, True), values):
                self.p.var(("r", title, loc, slipped, v))
        # The tables count the same young people.
        for loc in LOCALITIES:
            for q, a in itertools.product(quarters, ADULTS):
                self.p.equal(self._x(loc, q=q, A=a), self._y(loc, q=q, A=a))
            self.p.equal(self._x(loc), self.p.sum([n for n in self.p.index if n[0] == "g" and n[1] == loc]))
            for title in CHARACTERISTICS:
                for slipped in (False, True):
                    r = [n for n in self.p.index if n[0] == "r" and n[1] == title and n[2] == loc and n[3] == slipped]
                    self.p.equal(self._x(loc, S=INTENSIVE, sl=slipped), self.p.sum(r))

    def _x(self, loc: str, q: dt.date | None = None, **want: object) -> Expr:
        def ok(name: tuple[object, ...]) -> bool:
            _x, nloc, nq, s, plan, a, slipped = name
            values = {"S": s, "P": plan, "A": a, "sl": slipped}
            for k, v in want.items():
                if (isinstance(v, list) and values[k] not in v) or (not isinstance(v, list) and values[k] != v):
                    return False
            return (loc == ALL or nloc == loc) and (q is None or nq == q)

        return self.p.sum([n for n in self.p.index if n[0] == "x" and ok(n)])

    def _y(self, loc: str, q: dt.date | None = None, **want: object) -> Expr:
        names = [
            n
            for n in self.p.index
            if n[0] == "y"
            and (loc == ALL or n[1] == loc)
            and (q is None or n[2] == q)
            and all(dict(A=n[3], O=n[4])[k] == v for k, v in want.items())
        ]
        return self.p.sum(names)

    def node(self, loc: str, stage: str, name: str) -> Expr:
        return self._y(loc, O=name) if stage == "O" else self._x(loc, **{stage: name})

    def link(self, loc: str, step: str, a: str, b: str) -> Expr:
        first, second = STEPS[step]
        return self._y(loc, A=a, O=b) if second == "O" else self._x(loc, **{first: a, second: b})

    def gap(self, loc: str, bands: list[str]) -> Expr:
        return self.p.sum([n for n in self.p.index if n[0] == "g" and (loc == ALL or n[1] == loc) and n[2] in bands])

    def rep(self, title: str, value: str, slipped: bool | None) -> Expr:
        return self.p.sum(
            [
                n
                for n in self.p.index
                if n[0] == "r" and n[1] == title and n[4] == value and (slipped is None or n[3] == slipped)
            ]
        )

    # What is read. ------------------------------------------------------------------------
    def count(self, what: str, expr: Expr, shown: object, truth: int | None, left_out: bool = False) -> None:
        """A count as shown: a number, c (hidden), blank or absent (left out)."""
        value = number(shown)
        if value is not None:
            self.p.known(expr, value, value)
            return
        if truth is None:
            return
        small = 1 <= truth <= self.threshold
        if left_out:
            # Left out (a band not listed, a group not drawn): 0, or hidden for being small.
            self.p.known(expr, 0, self.threshold if truth <= self.threshold else math.inf)
        else:
            self.p.known(expr, 1, self.threshold if small else math.inf)
        if small:
            key = ("hidden", len(self.hidden))
            self._exprs[key] = expr
            self.hidden.append(Hidden(what, key, truth))

    def ranges(self) -> list[tuple[Hidden, float, float]]:
        """For each small hidden count: values it can take, given everything read. A range
        of at least the promised width is shown by whole-number solutions (the true value is
        one); a narrower one is the count's least and greatest value (an integer program each)."""
        assert self.p.feasible(seconds=120), "the reader's program has no solution: it misread a page"
        need = protection(self.threshold)
        exprs = [self._exprs[h.expr_key] for h in self.hidden]
        # Solutions pushing every hidden count up, then down, together show most of them wide at
        # once; then rounds pushing the rest (the small ones up, the larger down) show most of those.
        everything: Expr = {}
        for expr in exprs:
            for i, c in expr.items():
                everything[i] = everything.get(i, 0.0) + c
        seen = [x for x in (self.p.solution(everything, -1), self.p.solution(everything, 1)) if x is not None]

        def reached(h: Hidden, expr: Expr) -> tuple[float, float]:
            values = [h.truth, *(sum(c * x[i] for i, c in expr.items()) for x in seen)]
            return min(values), max(values)

        for _round in range(8):
            rest = [(h, e) for h, e in zip(self.hidden, exprs, strict=True) if _width(*reached(h, e)) < need]
            if not rest:
                break
            push: Expr = {}
            for h, expr in rest:
                up = -1.0 if h.truth + need - 1 <= self.threshold else 1.0
                for i, c in expr.items():
                    push[i] = push.get(i, 0.0) + up * c
            found = self.p.solution(push, 1)
            if found is None:
                break
            seen.append(found)
        # Each count still narrow: is a value far enough from the truth possible? A feasible
        # point ends the search at once, and widens the other counts too.
        out = []
        for h, expr in zip(self.hidden, exprs, strict=True):
            low, high = reached(h, expr)
            if _width(low, high) < need:
                targets = [(h.truth + need - 1, math.inf), (-math.inf, h.truth - need + 1)]
                for lo, hi in targets if h.truth + need - 1 <= self.threshold else targets[::-1]:
                    found = self.p.example(expr, lo, hi)
                    if found is not None:
                        seen.append(found)
                        low, high = reached(h, expr)
                        break
                else:
                    low, high = self.p.extreme(expr, 1), self.p.extreme(expr, -1)
            out.append((h, low, high))
        return out


def _width(low: float, high: float) -> float:
    return high - low + 1


def read_crossing_eighteen(
    model: CrossingEighteen,
    board: dict[str, Seen],
    lead: dict[str, Seen],
    themes_board: dict[str, Seen],
    themes_lead: dict[str, Seen],
) -> None:
    """Everything the board's cohort pages (by slice) and programme pages say of the year, into the program.
    `board` and `lead`: the cohort page of the year by slice (ALL or a locality)."""
    year = model.year
    sentence = re.compile(
        r"^Of (?P<n>[\d,]+|.+?) young people(?: \(to protect smaller counts\))? who turned 18 "
        r"(?:across all localities|in \w+) in "
        r"(?P<when>.+?) \(six months on\)"
    )
    first = next(m for t in board[ALL].texts() if (m := sentence.search(t)))
    model.unknowns(_quarters(year, first.group("when")))
    for s, seen in board.items():
        truth = lead[s]
        # The flow: total, share with no adult service, groups drawn (chart data), bands (table).
        for text in seen.texts():
            if m := sentence.search(text):
                model.count(f"{s}: turned 18", model._x(s), m.group("n"), None)
                share = re.search(r"\*\*(\d+)%\*\* had no adult service", text)
                if share:
                    model.p.share(model.node(s, "A", NO_ADULT), model._x(s), float(share.group(1)), 0)
        nodes_seen = _nodes(seen)
        nodes_true = _nodes(truth)
        for (stage, name), value in nodes_true.items():
            shown = nodes_seen.get((stage, name))
            # A group not drawn is hidden (the note under the chart says how many are not drawn).
            model.count(f"{s}: group {name}", model.node(s, stage, name), shown if shown is not None else "c", value)
        links_seen = _links(seen)
        links_true = _links(truth)
        for key, value in links_true.items():
            shown = links_seen.get(key)
            model.count(
                f"{s}: band {key}",
                model.link(s, *key),
                shown if shown is not None else "",
                number(value),
                shown is None,
            )
        # The gap.
        tiles = seen.metrics()
        gap_words = next((t for t in seen.texts() if "with both a children's and an adult service" in t), "")
        if m := re.search(r"^Of ([\d,]+) young people", gap_words):
            model.count(f"{s}: gap measured", model.gap(s, BANDS), m.group(1), None)
        measured = model.gap(s, BANDS)
        for label, bands in (("Gap over 28 days", BANDS[2:]), ("Gap over 90 days", BANDS[3:])):
            if (v := percent(tiles.get(label, ""))) is not None:
                model.p.share(model.gap(s, bands), measured, v, 0)
        band_true = {r["Gap"]: r["Young people"] for r in _table(truth, "Gap").to_dict("records")}
        band_seen = {r["Gap"]: r["Young people"] for r in _table(seen, "Gap").to_dict("records")}
        for band in BANDS:
            if band in band_seen:
                model.count(f"{s}: gap {band}", model.gap(s, [band]), band_seen[band], number(band_true.get(band)))
        # Slipped through the net: of those with intensive support, by quarter (where shown).
        intensive, slipped = model._x(s, S=INTENSIVE), model._x(s, sl=True)
        words = next(
            (t for t in seen.texts() if "with intensive support before 18" in t and "slipped through the net in" in t),
            "",
        )
        if m := re.search(r"^(.+?) of ([\d,]+|.+?) young people with intensive support", words):
            model.count(f"{s}: slipped", slipped, m.group(1), None)
            model.count(f"{s}: intensive support", intensive, m.group(2), None)
        if (v := percent(tiles.get("Slipped through the net", ""))) is not None:
            model.p.share(slipped, intensive, v, 0)
        quarter_true = {
            r["Quarter of 18th birthday"]: r for r in _table(truth, "Quarter of 18th birthday").to_dict("records")
        }
        for row in _table(seen, "Quarter of 18th birthday").to_dict("records"):
            label = row["Quarter of 18th birthday"]
            if not label.startswith(str(year)):
                continue
            q = dt.date(year, 3 * int(label[-1]) - 2, 1)
            real = quarter_true.get(label, {})
            n_q, k_q = model._x(s, q=q, S=INTENSIVE), model._x(s, q=q, sl=True)
            model.count(
                f"{s}: intensive {label}",
                n_q,
                row["Intensive support before 18"],
                number(real.get("Intensive support before 18")),
            )
            model.count(
                f"{s}: slipped {label}",
                k_q,
                row["Slipped through the net"],
                number(real.get("Slipped through the net")),
            )
            if (v := percent(row["Share slipped (%)"])) is not None:
                model.p.share(k_q, n_q, v, 1)
        # Who slipped, by characteristic.
        rep_seen, rep_true = seen.after("Slipped through the net"), truth.after("Slipped through the net")
        rows_true = (
            {(r["Characteristic"], r["Group"]): r for r in _table(rep_true, "In focus group").to_dict("records")}
            if s == ALL
            else {}
        )
        for row in _table(rep_seen, "In focus group").to_dict("records") if s == ALL else []:
            title, group = row["Characteristic"], row["Group"]
            real = rows_true.get((title, group), {})
            k_g, m_g = model.rep(title, group, True), model.rep(title, group, None)
            model.count(f"slipped who are {group}", k_g, row["In focus group"], number(real.get("In focus group")))
            if (v := percent(row["Share of focus group (%)"])) is not None:
                model.p.share(k_g, slipped, v, 1)  # of everyone who slipped
            if (v := percent(row["Share of cohort (%)"])) is not None:
                model.p.share(m_g, intensive, v, 1)
    # Theme 1, by quarter and locality: picked up within 3 months, of those with intensive support;
    # and its direction of travel, a comparison of two quarters, as the inequality it is.
    for s, seen in themes_board.items():
        series = _series(seen, PICKUP)
        picked = [a for a in ADULTS if a != NO_ADULT]
        for period, value in series.items():
            if period.year != year or period not in model.quarters:
                continue
            n_q = model._x(s, q=period, S=INTENSIVE)
            k_q = model._x(s, q=period, S=INTENSIVE, A=picked)
            if value is not None:
                model.p.share(k_q, n_q, value, 1)
        word = _direction(seen, PICKUP)
        if m := re.match(r"(improving|worsening|no clear change) on (\d{4}) Q(\d)", word):
            before = dt.date(int(m.group(2)), 3 * int(m.group(3)) - 2, 1)
            latest = max(series) if series else None
            for q, other in ((latest, before), (before, latest)):
                # One of the two quarters in this year's table, the other shown: a bound on the first.
                if q is None or other is None or q not in model.quarters or q.year != year or series.get(other) is None:
                    continue
                n_q, k_q = model._x(s, q=q, S=INTENSIVE), model._x(s, q=q, S=INTENSIVE, A=picked)
                v = float(series[other])  # type: ignore[arg-type]
                up = (m.group(1) == "improving") == (q == latest)
                if m.group(1) == "no clear change":  # within 2 points either way
                    model.p.known(_minus({i: 100 * c for i, c in k_q.items()}, n_q, v - 2), 0, math.inf)
                    model.p.known(_minus({i: 100 * c for i, c in k_q.items()}, n_q, v + 2), -math.inf, 0)
                elif up:
                    model.p.known(_minus({i: 100 * c for i, c in k_q.items()}, n_q, v + 2), 0, math.inf)
                else:
                    model.p.known(_minus({i: 100 * c for i, c in k_q.items()}, n_q, v - 2), -math.inf, 0)


def _minus(num: Expr, den: Expr, times: float) -> Expr:
    """num - times * den."""
    out = dict(num)
    for i, c in den.items():
        out[i] = out.get(i, 0.0) - times * c
    return out


def _direction(seen: Seen, indicator: str) -> str:
    for frame in seen.tables("Direction (on a year before)"):
        rows = frame[frame["Indicator"] == indicator]
        if len(rows):
            return str(rows.iloc[0]["Direction (on a year before)"])
    return ""


def _table(seen: Seen, column: str) -> pd.DataFrame:
    found = seen.tables(column)
    return found[0] if found else pd.DataFrame(columns=[column])


def _nodes(seen: Seen) -> dict[tuple[str, str], int]:
    """The flow's groups as drawn: (stage, name) -> young people, from the chart's data."""
    for frame in seen.datasets():
        if {"stage", "name", "value", "x0"} <= set(frame.columns) and "text" not in frame.columns:
            return {(STAGES[r["stage"]], r["name"]): int(r["value"]) for r in frame.to_dict("records")}
    return {}


def _links(seen: Seen) -> dict[tuple[str, str, str], object]:
    rows = _table(seen, "Step").to_dict("records")
    return {(r["Step"], r["From"], r["To"]): r["Young people"] for r in rows}


def _series(seen: Seen, indicator: str) -> dict[dt.date, float | None]:
    """An indicator's quarterly values as the chart's data carries them (None where not shown)."""
    out: dict[dt.date, float | None] = {}
    marker = f"**{indicator}**"
    inside = False
    for kind, value in seen.elements:
        if kind == "markdown" and str(value).startswith("**") and str(value).endswith("**"):
            inside = value == marker
            continue
        if inside and kind == "table" and "Quarter starting" in value.columns:  # type: ignore[union-attr]
            for r in value.to_dict("records"):  # type: ignore[union-attr]
                day = pd.Timestamp(r["Quarter starting"]).date()
                out[day] = percent(r["Value"])
            return out
    return out
