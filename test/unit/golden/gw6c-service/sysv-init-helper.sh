#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
#
# gw6c         Gateway6 client: IPv6 tunnel to a TSP broker
#
# chkconfig: 2345 56 24
# description: gw6c negotiates an IPv6 tunnel with a TSP broker and, in \
#              router mode, starts its own radvd for the LAN.
# processname: gw6c
# config: /usr/local/gw6c/etc/gw6c.conf
#
### BEGIN INIT INFO
# Provides:          gw6c
# Required-Start:    $network $local_fs $remote_fs
# Required-Stop:     $network $local_fs $remote_fs
# Should-Start:      $syslog
# Should-Stop:       $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Gateway6 client (IPv6 tunnel to a TSP broker)
# Description:       gw6c negotiates an IPv6 tunnel with a TSP broker and, in
#                    router mode, starts its own radvd for the LAN.
### END INIT INFO

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH

GW6C_DIR=/usr/local/gw6c
GW6C_BIN=/usr/local/gw6c/bin/gw6c
GW6C_CONF=/usr/local/gw6c/etc/gw6c.conf
STOP_TIMEOUT=30

gw6c_start() {
    if [ ! -x "$GW6C_BIN" ]; then
        echo "gw6c: $GW6C_BIN is missing or not executable" >&2
        return 5
    fi
    if [ ! -r "$GW6C_CONF" ]; then
        echo "gw6c: $GW6C_CONF is missing" >&2
        return 6
    fi
    if pidof gw6c >/dev/null 2>&1; then
        echo "gw6c is already running"
        return 0
    fi
    # In router mode gw6c starts its own radvd; the distribution's must not run beside it.
    if [ -x /etc/init.d/radvd ]; then
        /etc/init.d/radvd stop >/dev/null 2>&1 || true
    fi
    # What a dead gw6c left would make its template fail; radvd needs its runtime directory.
    /usr/local/gw6c/bin/ipv6gw-gw6c prestart || return 1
    printf 'Starting gw6c: '
    # gw6c 5.1 forks only after the broker answered, so this waits for the tunnel.
    if ! (cd "$GW6C_DIR" && "$GW6C_BIN" -f "$GW6C_CONF"); then
        echo "FAILED (see the gw6c log)"
        return 1
    fi
    # If radvd fails, gw6c dies just after forking: check it is still there.
    sleep 2
    if ! pidof gw6c >/dev/null 2>&1; then
        echo "FAILED (gw6c exited after setup; see the gw6c log)"
        return 1
    fi
    echo "OK"
    return 0
}

gw6c_stop() {
    if pidof gw6c >/dev/null 2>&1; then
        printf 'Stopping gw6c: '
        # Only SIGHUP runs gw6c's teardown (tunnel, routes, radvd).
        kill -HUP $(pidof gw6c)
        waited=0
        while pidof gw6c >/dev/null 2>&1; do
            if [ "$waited" -ge "$STOP_TIMEOUT" ]; then
                echo "FAILED (still running after $STOP_TIMEOUT seconds)"
                return 1
            fi
            sleep 1
            waited=$((waited + 1))
        done
        echo "OK"
    else
        echo "gw6c is not running"
    fi
    # What a gw6c that died (rather than stopped) left behind.
    /usr/local/gw6c/bin/ipv6gw-gw6c cleanup
    return 0
}

gw6c_status() {
    pids=$(pidof gw6c 2>/dev/null)
    if [ -n "$pids" ]; then
        echo "gw6c (pid $pids) is running"
        return 0
    fi
    echo "gw6c is stopped"
    return 3
}

case "$1" in
    start)
        gw6c_start
        ;;
    stop)
        gw6c_stop
        ;;
    restart|force-reload)
        gw6c_stop && gw6c_start
        ;;
    status)
        gw6c_status
        ;;
    *)
        echo "Usage: $0 {start|stop|restart|status}" >&2
        exit 2
        ;;
esac
exit $?
