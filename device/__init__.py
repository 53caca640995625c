"""The appliance: controller, buttons, console, config, service and the `tolk` command."""
