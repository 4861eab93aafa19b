"""`python -m skiff_gateway [serve|migrate|openapi]`."""

from skiff_kit.runner import run_service

from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings

run_service(create, GatewaySettings, script_location=None)
