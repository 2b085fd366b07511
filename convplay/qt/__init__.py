"""The Qt application: windows, docks, views, the animation player, compute workers."""
