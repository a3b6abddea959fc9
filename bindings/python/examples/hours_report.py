#!/usr/bin/env python3
"""Print a month's hours report as CSV, for payroll or a funder.

    LOGBOOK_PASSPHRASE=... python hours_report.py STORE_DIR 2026-11 [--sync] [--totals] > hours.csv

STORE_DIR is a coordinator's logbook directory (e.g. one set up with the CLI). With --sync it
first syncs with the relay the store joined; with --totals it prints a summary per person to
stderr. The store is encrypted at rest: LOGBOOK_PASSPHRASE is its passphrase, as for the CLI.
Needs the generated bindings (logbook_ffi.py, logbook_core.py) and liblogbook_ffi on
PYTHONPATH: `scripts/bindings.sh python` writes them to target/bindings/python/.
"""

import argparse
import asyncio
import calendar
import os
import sys
from collections import defaultdict

import logbook_ffi as ffi


def month_bounds(month: str) -> tuple[str, str]:
    year, mon = (int(x) for x in month.split("-"))
    last = calendar.monthrange(year, mon)[1]
    return f"{year:04d}-{mon:02d}-01", f"{year:04d}-{mon:02d}-{last:02d}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="the coordinator's logbook directory")
    parser.add_argument("month", help="YYYY-MM")
    parser.add_argument("--sync", action="store_true", help="sync with the relay first")
    parser.add_argument("--totals", action="store_true", help="print hours per person to stderr")
    args = parser.parse_args()

    # The same passphrase the CLI takes (LOGBOOK_PASSPHRASE): the store is encrypted at rest.
    book = ffi.Logbook.open_with_passphrase(args.store, os.environ["LOGBOOK_PASSPHRASE"])
    try:
        if args.sync:
            summary = asyncio.run(book.sync().run())
            print(f"synced: pulled {summary.pulled_blobs} blobs, pushed {summary.pushed_changes} changes",
                  file=sys.stderr)
        start, end = month_bounds(args.month)
        sys.stdout.write(book.reports().hours_csv(start, end))
        if args.totals:
            minutes = defaultdict(int)
            for row in book.reports().hours(start, end):
                minutes[row.person_name] += row.minutes
            for name, m in sorted(minutes.items()):
                print(f"{name}: {m // 60} h {m % 60:02d} min", file=sys.stderr)
    except ffi.LogbookError as e:
        # The messages carry no personal data, so they are safe to print and log.
        print(f"hours_report: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
