from . import mfg_forecast_import
