"""The methods, on the engine: each returns a cold, awaitable observable.

:mod:`.calls` turns requests into the observables of :mod:`.runs` (the Rx
layer's one handle on the engine); :mod:`.declared` makes the actions sent as
they are from their Structs (:mod:`.declare`; :mod:`.paging` checks the paged
ones), one line each; :mod:`.actions` holds the other v3.6 actions, :mod:`.v1`
and :mod:`.v1_pages` the JS SDK v1 methods, :mod:`.upload` the file upload's Rx
face, :mod:`.validate` the input checks and :mod:`.throttle` the sneak-peek
throttle.
"""
