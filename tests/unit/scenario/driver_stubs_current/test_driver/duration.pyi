# As test_driver/duration.py of the current driver (nixpkgs PR #542374).
import datetime as dt

Duration = dt.timedelta | int | float
