from . import services
from . import models
from . import wizards
from . import controllers
