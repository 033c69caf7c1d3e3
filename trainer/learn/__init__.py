"""Learn: guided lessons on the body (lessons as YAML next to the banks), then check yourself."""
