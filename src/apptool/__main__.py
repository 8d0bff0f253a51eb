from apptool.cli import main

main()
