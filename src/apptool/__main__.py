from apptool.console import main

main()
