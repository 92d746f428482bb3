"""Exports of hab-aux datasets to other tools' formats (LeRobot v3: `habaux export --format lerobot`)."""
