"""Run ``PortalInserter`` in a child process as another user: the real portal refuses
callers whose /proc/PID/root it cannot open (root, from uid 65534's portal).

Usage: ``python -m harness.portal_client STATE_DIR``. Reads a JSON list of texts (or
``{"press": KEY, "count": N}`` for ``Inserter.press``) as the first stdin line, starts
the portal session (``prepare``: the consent dialog, if any, appears now), prints
``ready`` (or ``{"error": message}``), waits for a second line, then inserts the items
and prints a JSON list of ``[method, seconds, wl-copy starts]`` per item (or
``{"error": message}`` as the last item).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from voicetype.insertion import InsertionError
from voicetype.insertion.portal import PortalInserter


def main() -> None:
    texts = json.loads(sys.stdin.readline())
    inserter = PortalInserter(os.environ, Path(sys.argv[1]), consent_timeout=30)
    out: list[object] = []
    try:
        inserter.prepare()
        print("ready", flush=True)
        sys.stdin.readline()
        for item in texts:
            start = time.monotonic()
            if isinstance(item, dict):  # {"press": "BackSpace", "count": N}
                inserter.press(item["press"], item["count"], None)
            else:
                inserter.insert(item, None)
            out.append([inserter.last_method, time.monotonic() - start, inserter.copy_attempts])
    except InsertionError as exc:
        out.append({"error": exc.message})
    finally:
        inserter.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
