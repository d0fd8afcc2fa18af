"""The application shell: the loop that runs a session on adapters, and what surrounds it.

Modules here may use devices, files, threads and the adapters in ``audio``, ``speech``,
``journal`` and ``report``; the pure core at the package's top level may not (tests/test_layers.py).
"""
