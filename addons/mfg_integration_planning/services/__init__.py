from . import forecast_csv
from . import replenishment
