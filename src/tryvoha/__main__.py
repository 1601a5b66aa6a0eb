from __future__ import annotations

from tryvoha.cli import main

raise SystemExit(main())
