module ipv6gw.lab/tsp-broker

go 1.22
