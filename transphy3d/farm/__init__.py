"""The render farm: ``transphy3d render --scenes N`` on Ray, one worker process per scene."""
