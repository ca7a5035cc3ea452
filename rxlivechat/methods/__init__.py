"""The methods, on the engine: each returns a cold, awaitable observable.

:mod:`.calls` turns requests into observables (the Rx layer's one handle on the
engine); :mod:`.v1` holds the JS SDK v1 methods, :mod:`.actions` every other
v3.6 action, :mod:`.upload` the file upload's Rx face, :mod:`.validate` the
input checks and :mod:`.throttle` the sneak-peek throttle.
"""
