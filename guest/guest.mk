# placeholder until the guest runtime lands
guests:
