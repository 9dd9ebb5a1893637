"""Runs the worker without installing it: ``python worker.py --config job.json``."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from p2m_worker.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
