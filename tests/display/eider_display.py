# eider_display.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What the display tests share: a private Xvfb and D-Bus session bus,
# top-level windows, polling, screenshots and GAction activation over D-Bus.

import os
import re
import shutil
import subprocess
import sys
import time

TIMEOUT = 30.0


def log(*args):
    print('#', *args, flush=True)


def fail(message):
    print('FAIL:', message, flush=True)
    sys.exit(1)


def need(program):
    path = shutil.which(program)
    if path is None:
        fail(f'{program} not found in PATH')
    return path


class Session:
    """One Xvfb server and one D-Bus session bus, both private to the test."""

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.procs = []

        # Xvfb picks a free display itself and writes its number to the pipe.
        rfd, wfd = os.pipe()
        xvfb = subprocess.Popen(
            [need('Xvfb'), '-displayfd', str(wfd), '-screen', '0', '1280x800x24',
             '-nolisten', 'tcp', '-noreset'],
            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(xvfb)
        os.close(wfd)
        with os.fdopen(rfd) as pipe:
            number = pipe.readline().strip()
        if not number:
            fail('Xvfb did not start')
        self.display = ':' + number

        dbus = subprocess.Popen(
            [need('dbus-daemon'), '--session', '--nofork', '--nopidfile',
             '--print-address=1'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(dbus)
        self.bus_address = dbus.stdout.readline().strip()
        if not self.bus_address:
            fail('dbus-daemon did not start')

    def spawn(self, argv, **kwargs):
        """Starts a process that the session stops when it closes."""
        proc = subprocess.Popen(argv, env=x_env(self), **kwargs)
        self.procs.append(proc)
        return proc

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def x_env(session):
    env = dict(os.environ)
    env['DISPLAY'] = session.display
    env['DBUS_SESSION_BUS_ADDRESS'] = session.bus_address
    return env


def app_env(session, tmpdir, schema_dir):
    """The environment `eider` runs in: software rendering, a keyfile
    GSettings backend and XDG directories inside @tmpdir."""
    env = x_env(session)
    env.update({
        'GDK_BACKEND': 'x11',
        'GSK_RENDERER': 'cairo',
        'LIBGL_ALWAYS_SOFTWARE': '1',
        # The cairo renderer needs no GL context. Without this, GDK still
        # probes EGL/GLX, and Mesa's unloaded driver leaves an allocation
        # that LeakSanitizer cannot attribute or suppress.
        'GDK_DEBUG': 'gl-disable',
        'GSETTINGS_SCHEMA_DIR': schema_dir,
        'GSETTINGS_BACKEND': 'keyfile',
        'GTK_A11Y': 'none',
        'NO_AT_BRIDGE': '1',
        'HOME': tmpdir,
        'XDG_CONFIG_HOME': os.path.join(tmpdir, 'config'),
        'XDG_DATA_HOME': os.path.join(tmpdir, 'data'),
        'XDG_CACHE_HOME': os.path.join(tmpdir, 'cache'),
        'XDG_RUNTIME_DIR': tmpdir,
        'LANG': 'C.UTF-8',
        # Any GLib or GTK warning from the app aborts it and fails the test.
        'G_DEBUG': 'fatal-warnings',
    })
    env.pop('WAYLAND_DISPLAY', None)
    return env


def top_level_windows(session):
    """Returns {window id: (name, width, height)} of mapped top-level windows."""
    out = subprocess.run(['xwininfo', '-root', '-children'], env=x_env(session),
                         capture_output=True, text=True, check=True).stdout
    windows = {}
    for line in out.splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) (?:"(.*)"|\(has no name\)): .* (\d+)x(\d+)\+', line)
        if not m:
            continue
        wid, name, width, height = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        info = subprocess.run(['xwininfo', '-id', wid], env=x_env(session),
                              capture_output=True, text=True).stdout
        if 'Map State: IsViewable' in info:
            windows[wid] = (name or '', width, height)
    return windows


def wait_for(predicate, what, app=None, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if app is not None and app.poll() is not None:
            fail(f'eider exited with status {app.returncode} while waiting for {what}')
        time.sleep(0.2)
    fail(f'timed out waiting for {what}')


def stddev(path):
    out = subprocess.run(['identify', '-format', '%[fx:standard_deviation]', path],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def colours(path):
    out = subprocess.run(['identify', '-format', '%k', path],
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def screenshot(session, window, path):
    """Waits until the window's pixels show more than a flat fill, saves them."""
    def grab():
        subprocess.run(['import', '-display', session.display, '-window', window, path],
                       check=True, capture_output=True)
        return stddev(path) > 0.02 and colours(path) > 16
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if grab():
            return
        time.sleep(0.5)
    fail(f'screenshot {path} stayed blank (stddev {stddev(path):.4f}, '
         f'{colours(path)} colours)')


def activate(session, app_id, action, object_path=None, parameter=None):
    """Activates a GAction of the running app over org.gtk.Actions."""
    if object_path is None:
        object_path = '/' + app_id.replace('.', '/')
    subprocess.run(['gdbus', 'call', '--session', '--dest', app_id,
                    '--object-path', object_path,
                    '--method', 'org.gtk.Actions.Activate', action,
                    '[]' if parameter is None else f'[{parameter}]', '{}'],
                   env=x_env(session), check=True, capture_output=True, timeout=TIMEOUT)


def main_window(session, app):
    """The id of the mapped top-level window called Eider."""
    return wait_for(lambda: next((w for w, (name, _, _) in top_level_windows(session).items()
                                  if name == 'Eider'), None),
                    'the main window to be mapped', app)
