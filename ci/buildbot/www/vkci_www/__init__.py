"""vkci_www - the master's web root when Buildbot's own UI (buildbot-www,
not packaged by Debian) is not installed: a plain page pointing at the REST
API (/api/v2), which Buildbot serves itself. Registered as the "base" www
plugin by vkci_www.egg-info/entry_points.txt; the master's buildbot.tac
puts this directory on pkg_resources' path (see ci/README.md)."""
from buildbot.www.plugin import Application

ep = Application(__name__, "vkci: Buildbot's REST API, no JavaScript UI", ui=True)
