"""The serial debug console: a line shell over UART / USB gadget serial / a pty / stdio.

``commands`` executes one line against the live appliance (or reports it down);
``server`` exposes that over a local Unix socket owned by the appliance;
``terminal`` is the line editor on the serial port; ``client`` joins the two.
"""
