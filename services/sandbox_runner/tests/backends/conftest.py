"""The backend tests import their shared helpers (backend_helpers.py) from here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
