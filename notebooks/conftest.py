"""Running the notebooks as tests (``pytest`` collects them with nbmake).

The kernels inherit this process's environment: matplotlib draws with Agg, off
screen, whatever the machine has.
"""

import os

os.environ["MPLBACKEND"] = "Agg"
