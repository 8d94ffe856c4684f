#!/bin/sh
# Role `slow`: takes a second.
sleep 1
printf done
