"""voicecoach's benchmarks: each module runs as ``python -m bench.NAME`` (see README.md here).

voicecoach is imported before anything else so that numpy runs its matrix products on one
thread, as it does in the product (``voicecoach/__init__.py``): the CPU figures are the
product's.
"""

import voicecoach  # noqa: F401
