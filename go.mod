module github.com/bitswap-codec/bitswap

go 1.26
