"""What the tools beside the app share: the benchmark (bench/), the drills (drill/), the
scripts make runs on the host (scripts/) and the tests (tests/). Never in the image (the
Dockerfile copies app/ only) and never imported by app/.

``console``: the step line every tool prints. ``environment``: how a tool reads its
variables. ``ports``: a free port on loopback. ``stand_in``: a recording stand-in for
Django's integration endpoint, in front of which the emulator is tested and measured.
Standard library only, but for ``stand_in`` (aiohttp).
"""
