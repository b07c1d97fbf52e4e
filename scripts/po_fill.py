"""Fill a translation catalogue from JSON, or list what it still lacks.

    python scripts/po_fill.py --missing [--lang da]          # print {"msgid": ""} for every untranslated entry
    python scripts/po_fill.py FILE.json [--lang da]          # set msgstr from {"msgid": "oversættelse"}
                                                             # (plural entries: {"msgid": ["ental", "flertal"]})

Run ``make i18n`` first so the catalogue has every marked string, and again afterwards to compile.
Entries filled here lose their fuzzy flag; msgids not in the catalogue are reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Parse the arguments, then list or fill; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="JSON object msgid -> translation")
    parser.add_argument("--lang", default="da")
    parser.add_argument("--missing", action="store_true", help="print the untranslated msgids as JSON")
    args = parser.parse_args()
    path = ROOT / "app" / "translations" / args.lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=args.lang)
    if args.missing:
        lacking = {}
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                lacking[key] = ["", ""] if isinstance(message.id, tuple) else ""
        json.dump(lacking, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if not args.file:
        parser.error("give a JSON file or --missing")
    wanted = json.loads(Path(args.file).read_text())
    by_singular = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}
    unknown = []
    for msgid, text in wanted.items():
        message = by_singular.get(msgid)
        if message is None:
            unknown.append(msgid)
            continue
        message.string = tuple(text) if isinstance(message.id, tuple) else text
        message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=120)
    print(f"filled {len(wanted) - len(unknown)}; not in the catalogue: {unknown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
