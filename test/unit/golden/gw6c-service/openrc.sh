#!/sbin/openrc-run
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.

description="Gateway6 client: IPv6 tunnel to a TSP broker"

gw6c_dir="/usr/local/gw6c"
command="/usr/local/gw6c/bin/gw6c"
gw6c_conf="/usr/local/gw6c/etc/gw6c.conf"

depend() {
    need net
}

start_pre() {
    if [ ! -r "$gw6c_conf" ]; then
        eerror "$gw6c_conf is missing"
        return 1
    fi
    # In router mode gw6c starts its own radvd; the distribution's must not run beside it.
    if [ -x /etc/init.d/radvd ]; then
        /etc/init.d/radvd --quiet stop >/dev/null 2>&1 || true
    fi
}

start() {
    ebegin "Starting gw6c"
    # gw6c 5.1 forks only after the broker answered, so this waits for the tunnel.
    cd "$gw6c_dir" && "$command" -f "$gw6c_conf"
    eend $?
}

stop() {
    ebegin "Stopping gw6c"
    # Only SIGHUP runs gw6c's teardown (tunnel, routes, radvd).
    start-stop-daemon --stop --exec "$command" --retry HUP/20
    rc=$?
    eend $rc
}
