"""The trip, coordinated: the travellers, their arrival and departure, the logistics
tasks that follow the booked lines, the journey's progress and its calendar."""
