#!/bin/sh
# Role `sleep`: outlives any timeout the cases set.
sleep 30
